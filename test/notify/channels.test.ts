import { createHmac } from 'node:crypto';
import { isShaobingError } from '../../core/errors';
import { createSenders, type Sender } from '../../notify/channels';
import { ChannelsSchema } from '../../notify/config';
import { pageMessage } from '../../notify/messages';
import type { NotifyChannel } from '../../notify/policy';
import { aliyunRpcSignature, tc3Sign } from '../../notify/signing';
import { loopbackSmtp, providerServer, testRoster, type LoopbackSmtp, type ProviderServer, type Received } from './helpers';

const NOW = Date.parse('2026-03-05T02:00:00Z');
const person = testRoster().people[0]!;
const message = pageMessage({ level: 1, title: '某化工园区发生爆炸起火', topic: 'chemical-blast', alertId: 'a'.repeat(32), link: 'https://duty.example.cn/ack/xyz' });

/** What Alibaba Cloud checks: the RPC signature over every other parameter, with the account's secret. */
function aliyunVerify(secret: string, expectAction: string) {
  return (r: Received) => {
    const params = Object.fromEntries(new URLSearchParams(r.body));
    const { Signature, ...rest } = params;
    if (r.method !== 'POST' || !Signature || aliyunRpcSignature('POST', rest, secret) !== Signature) return { status: 400, body: { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.' } };
    if (rest.Action !== expectAction || rest.SignatureMethod !== 'HMAC-SHA1' || rest.Version !== '2017-05-25') return { status: 400, body: { Code: 'InvalidParameter', Message: 'bad' } };
    return { status: 200, body: { Code: 'OK', Message: 'OK', RequestId: 'r1', BizId: 'b1' } };
  };
}

/** What Tencent Cloud checks: TC3 over content-type, host and the body, with the X-TC-Timestamp date. */
function tencentVerify(secretId: string, secretKey: string) {
  return (r: Received) => {
    const expected = tc3Sign({ secretId, secretKey, service: 'sms', host: String(r.headers.host), timestamp: Number(r.headers['x-tc-timestamp']), payload: r.body, contentType: String(r.headers['content-type']) });
    if (r.headers.authorization !== expected.authorization) return { status: 200, body: { Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'signature' }, RequestId: 'x' } } };
    if (r.headers['x-tc-action'] !== 'SendSms' || r.headers['x-tc-version'] !== '2021-01-11') return { status: 200, body: { Response: { Error: { Code: 'InvalidAction', Message: 'x' } } } };
    return { status: 200, body: { Response: { SendStatusSet: [{ Code: 'Ok', Message: 'send success', PhoneNumber: JSON.parse(r.body).PhoneNumberSet[0] }], RequestId: 'y' } } };
  };
}

describe('channels against local provider endpoints that verify signatures', () => {
  const servers: ProviderServer[] = [];
  let smtp: LoopbackSmtp;
  let senders: Map<NotifyChannel, Sender[]>;

  beforeAll(async () => {
    const aliyunSms = await providerServer(aliyunVerify('sms-secret', 'SendSms'));
    const tencent = await providerServer(tencentVerify('AKIDtest', 'tencent-key'));
    const aliyunVoice = await providerServer(aliyunVerify('voice-secret', 'SingleCallByTts'));
    const dingtalk = await providerServer((r) => {
      const url = new URL(r.url, 'http://x');
      const timestamp = url.searchParams.get('timestamp')!;
      const expected = createHmac('sha256', 'SECding').update(`${timestamp}\nSECding`).digest('base64');
      if (url.searchParams.get('access_token') !== 'tok' || url.searchParams.get('sign') !== expected) return { status: 200, body: { errcode: 310000, errmsg: 'sign not match' } };
      return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
    });
    const feishu = await providerServer((r) => {
      const body = JSON.parse(r.body);
      const expected = createHmac('sha256', `${body.timestamp}\nfeishu-secret`).digest('base64');
      if (body.sign !== expected) return { status: 200, body: { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' } };
      return { status: 200, body: { code: 0, msg: 'success', data: {} } };
    });
    const wecom = await providerServer((r) =>
      new URL(r.url, 'http://x').searchParams.get('key') === 'wk' ? { status: 200, body: { errcode: 0, errmsg: 'ok' } } : { status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url' } },
    );
    const webhook = await providerServer((r) => {
      const ts = String(r.headers['x-shaobing-timestamp']);
      const expected = `sha256=${createHmac('sha256', 'webhook-secret-0123456789').update(`${ts}.${r.body}`).digest('hex')}`;
      return r.headers['x-shaobing-signature'] === expected ? { status: 204, body: '' } : { status: 401, body: 'bad signature' };
    });
    servers.push(aliyunSms, tencent, aliyunVoice, dingtalk, feishu, wecom, webhook);

    smtp = await loopbackSmtp();

    senders = createSenders(
      ChannelsSchema.parse({
        sms: [
          { provider: 'aliyun', access_key_id: 'LTAItest', access_key_secret: 'sms-secret', sign_name: '哨兵', template_code: 'SMS_1', endpoint: aliyunSms.url },
          { provider: 'tencent', secret_id: 'AKIDtest', secret_key: 'tencent-key', sdk_app_id: '1400000000', sign_name: '哨兵', template_id: '100', endpoint: tencent.url },
        ],
        voice: { provider: 'aliyun', access_key_id: 'LTAIvoice', access_key_secret: 'voice-secret', called_show_number: '057100000000', tts_code: 'TTS_1', endpoint: aliyunVoice.url },
        dingtalk: { webhook: `${dingtalk.url}robot/send?access_token=tok`, secret: 'SECding' },
        feishu: { webhook: `${feishu.url}open-apis/bot/v2/hook/abc`, secret: 'feishu-secret' },
        wecom: { webhook: `${wecom.url}cgi-bin/webhook/send?key=wk` },
        webhook: { url: `${webhook.url}hook`, secret: 'webhook-secret-0123456789' },
        email: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'shaobing@example.cn' },
      }),
      { now: () => NOW },
    );
  });

  afterAll(async () => {
    for (const list of senders.values()) for (const s of list) s.close?.();
    await Promise.all(servers.map((s) => s.close()));
    await smtp.close();
  });

  const send = (channel: NotifyChannel, index = 0) => senders.get(channel)![index]!.send(message, person, AbortSignal.timeout(5000));

  it('Alibaba Cloud SMS: signed SendSms with the template parameters', async () => {
    await send('sms', 0);
    const params = Object.fromEntries(new URLSearchParams(servers[0]!.received.at(-1)!.body));
    expect(params).toMatchObject({ Action: 'SendSms', PhoneNumbers: '13800000001', SignName: '哨兵', TemplateCode: 'SMS_1', Timestamp: '2026-03-05T02:00:00Z', AccessKeyId: 'LTAItest' });
    expect(JSON.parse(params.TemplateParam!)).toEqual({ level: '一级', title: '某化工园区发生爆炸起火', link: 'https://duty.example.cn/ack/xyz' });
  });

  it('Tencent Cloud SMS: TC3-signed SendSms with +86 numbers', async () => {
    await send('sms', 1);
    const body = JSON.parse(servers[1]!.received.at(-1)!.body);
    expect(body).toMatchObject({ PhoneNumberSet: ['+8613800000001'], SmsSdkAppId: '1400000000', TemplateId: '100', TemplateParamSet: ['一级', '某化工园区发生爆炸起火', 'https://duty.example.cn/ack/xyz'] });
    expect(servers[1]!.received.at(-1)!.headers['x-tc-timestamp']).toBe(String(NOW / 1000));
  });

  it('Alibaba Cloud voice: signed SingleCallByTts', async () => {
    await send('voice');
    expect(Object.fromEntries(new URLSearchParams(servers[2]!.received.at(-1)!.body))).toMatchObject({ Action: 'SingleCallByTts', CalledNumber: '13800000001', TtsCode: 'TTS_1' });
  });

  it('DingTalk robot: signed, @mentions the person', async () => {
    await send('dingtalk');
    expect(JSON.parse(servers[3]!.received.at(-1)!.body)).toMatchObject({ msgtype: 'text', at: { atMobiles: ['13800000001'] } });
  });

  it('Feishu bot: signed, @mentions the person', async () => {
    await send('feishu');
    expect(JSON.parse(servers[4]!.received.at(-1)!.body).content.text).toContain('<at user_id="ou_zhang">张三</at>');
  });

  it('WeCom robot: text with mentioned_list', async () => {
    await send('wecom');
    expect(JSON.parse(servers[5]!.received.at(-1)!.body)).toMatchObject({ msgtype: 'text', text: { mentioned_list: ['zhangsan'] } });
  });

  it('generic webhook: HMAC-signed JSON', async () => {
    await send('webhook');
    expect(JSON.parse(servers[6]!.received.at(-1)!.body)).toMatchObject({ kind: 'page', level: 1, person: { id: 'zhang' } });
  });

  it('email over SMTP to a real loopback server', async () => {
    await send('email');
    const mail = smtp.mails.at(-1)!;
    expect(mail.from).toBe('shaobing@example.cn');
    expect(mail.to).toEqual(['zhang@example.cn']);
    expect(mail.data).toMatch(/^Subject: /m);
  });

  it('a wrong secret is refused (not retriable); a provider down is retriable', async () => {
    const [bad] = createSenders(ChannelsSchema.parse({ sms: [{ provider: 'aliyun', access_key_id: 'x', access_key_secret: 'wrong', sign_name: 's', template_code: 't', endpoint: servers[0]!.url }] })).get('sms')!;
    const refused = await bad!.send(message, person, AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(isShaobingError(refused, 'SB_NOTIFY_REJECTED')).toBe(true);
    expect((refused as Error).message).toContain('SignatureDoesNotMatch');
    expect((refused as Error).message).not.toContain('wrong');

    servers[1]!.answer(() => ({ status: 503, body: 'maintenance' }));
    const down = await send('sms', 1).catch((e: unknown) => e);
    expect(isShaobingError(down, 'SB_NOTIFY_SEND_FAILED')).toBe(true);
    expect((down as { retriable: boolean }).retriable).toBe(true);

    const [unreachable] = createSenders(ChannelsSchema.parse({ dingtalk: { webhook: 'http://127.0.0.1:1/robot/send?access_token=secret-token', secret: 's', timeout_ms: 500 } })).get('dingtalk')!;
    const error = await unreachable!.send(message, person, AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(isShaobingError(error, 'SB_NOTIFY_SEND_FAILED')).toBe(true);
    expect((error as Error).message).not.toContain('secret-token');
  });
});
