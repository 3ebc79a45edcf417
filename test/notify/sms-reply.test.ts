import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import type { Alert } from '../../core/records';
import { NotifySchema } from '../../notify/config';
import { createNotifierRole, type NotifierRole } from '../../notify/role';
import { isAcknowledgement, nationalNumber } from '../../notify/sms-reply';
import { webhookSignature } from '../../notify/signing';
import type { Bus } from '../../bus/types';
import type { Store } from '../../store/types';
import { busFor, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { alert } from '../support/records';
import { providerServer, ROSTER_YAML, type ProviderServer } from './helpers';

jest.setTimeout(240_000);

const MIN = 60_000;
const TOKEN = 'reply-token-0123456789';
const HTTP_SECRET = 'http-gateway-secret-0123';

it('reply words and numbers are read as operators type them', () => {
  expect(['1', '１', ' 1 ', '确认', '收到。', '收到!'].every(isAcknowledgement)).toBe(true);
  expect(['11', '好的', '不是我', '0', ''].some(isAcknowledgement)).toBe(false);
  expect(['+8613800000001', '8613800000001', '008613800000001', '138 0000 0001'].map(nationalNumber)).toEqual(Array(4).fill('13800000001'));
});

describe('replying to the alert SMS acknowledges it (the running ack server, real callback bodies)', () => {
  let sms: ProviderServer;
  let bus: Bus;
  let store: Store;
  let role: NotifierRole;
  let clock = Date.parse('2026-03-05T02:00:00Z');
  const base = testConfig('embedded');

  beforeAll(async () => {
    sms = await providerServer(() => ({ status: 200, body: { Code: 'OK', Message: 'OK' } }));
    const roster = join(base.data_dir, 'roster.yaml');
    writeFileSync(roster, ROSTER_YAML);
    const config = {
      ...base,
      notify: NotifySchema.parse({
        roster,
        tick_seconds: 0.1,
        public_url: 'https://duty.example.cn',
        ack: { secret: 's'.repeat(32), port: 0, reply_token: TOKEN, ttl_minutes: 60 },
        channels: {
          sms: [
            { provider: 'aliyun', access_key_id: 'id', access_key_secret: 'secret', sign_name: '哨兵', template_code: 'SMS_1', endpoint: sms.url },
            { provider: 'http', url: `${sms.url}gateway`, secret: HTTP_SECRET },
          ],
        },
      }),
    };
    bus = busFor(config);
    store = storeFor(config);
    await Promise.all([bus.start(), store.init()]);
    role = createNotifierRole({ config, bus, store, log: silentLogger, metrics: createMetricsRegistry({ processMetrics: false }) }, { now: () => clock });
    await role.start();
  });

  afterAll(async () => {
    await role.stop();
    await bus.stop();
    await store.close();
    await sms.close();
    removeDataDir(base);
  });

  /** A 二级 alert paged to zhang (on duty) by SMS. */
  const paged = async (key: string): Promise<Alert> => {
    clock += MIN;
    const a = alert({ key, level: 2, title: `警情 ${key}` });
    await store.createAlert(a);
    const before = sms.received.length;
    await bus.publish('alert_events', [{ key: a.id, value: { id: `${a.id}:opened`, type: 'opened', alert_id: a.id, topic: a.topic, title: a.title, level: 2, at: a.opened_at } }]);
    await eventually(() => sms.received.length, (n) => n === before + 1, 60_000);
    return a;
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${role.ackUrl}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const status = async (a: Alert) => (await store.getAlert(a.id))!.value;

  it('Tencent Cloud reply callback: "1" from the paged number acknowledges, and the leader is never paged', async () => {
    const a = await paged('tencent');
    const body = { extend: '', mobile: '13800000001', nationcode: '86', sign: '哨兵', text: '1', time: Math.floor(clock / 1000) };
    expect((await post('/sms-reply/tencent/wrong-token-000000000', body)).status).toBe(404);
    expect((await status(a)).status).toBe('open');

    const answer = await post(`/sms-reply/tencent/${TOKEN}`, body);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ result: 0, errmsg: 'OK', shaobing: 'acknowledged' });
    expect((await status(a)).history.at(-1)).toMatchObject({ action: 'acknowledged', by: 'zhang', via: 'sms-reply' });

    // 15 minutes on, the leader's step would fall due: nothing is sent.
    const sent = sms.received.length;
    clock += 16 * MIN;
    await new Promise((r) => setTimeout(r, 500));
    expect(sms.received).toHaveLength(sent);

    // The provider pushing the same reply again changes nothing.
    expect(await (await post(`/sms-reply/tencent/${TOKEN}`, body)).json()).toMatchObject({ result: 0, shaobing: 'already' });
  });

  it('Alibaba Cloud SmsUp push: a batch with "确认" from the paged number, other text, and an unknown number', async () => {
    const a = await paged('aliyun');
    const item = (phone: string, content: string) => ({ phone_number: phone, send_time: '2026-03-05 10:20:00', content, sign_name: '哨兵', dest_code: '1234', sequence_id: 1234567890 });
    const answer = await post(`/sms-reply/aliyun/${TOKEN}`, [item('13800000001', '好的马上看'), item('13900000000', '1'), item('13800000001', '确认')]);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ code: 0, msg: '接收成功', shaobing: ['not-an-acknowledgement', 'unknown-number', 'acknowledged'] });
    expect((await status(a)).history.at(-1)).toMatchObject({ action: 'acknowledged', by: 'zhang', via: 'sms-reply' });
    expect((await post(`/sms-reply/aliyun/${TOKEN}`, '{"truncated')).status).toBe(400);
  });

  it('the generic HTTP gateway: signed like the webhook; a wrong or stale signature is refused', async () => {
    const a = await paged('http');
    const body = JSON.stringify({ mobile: '+8613800000001', text: '收到' });
    const signed = (ts: number, secret = HTTP_SECRET) => ({ 'x-shaobing-timestamp': String(ts), 'x-shaobing-signature': webhookSignature(ts, body, secret) });
    const now = Math.floor(clock / 1000);
    expect((await post('/sms-reply/http', body, signed(now, 'another-secret-000000'))).status).toBe(401);
    expect((await post('/sms-reply/http', body, signed(now - 3600))).status).toBe(401);
    expect((await status(a)).status).toBe('open');
    const answer = await post('/sms-reply/http', body, signed(now));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ ok: true, outcome: 'acknowledged' });
    expect((await status(a)).history.at(-1)).toMatchObject({ action: 'acknowledged', by: 'zhang', via: 'sms-reply' });
  });

  it('a reply after the link lifetime acknowledges nothing', async () => {
    const a = await paged('late');
    clock += 61 * MIN;
    const answer = await post(`/sms-reply/tencent/${TOKEN}`, { mobile: '13800000001', nationcode: '86', text: '1', sign: '哨兵', time: Math.floor(clock / 1000) });
    expect(await answer.json()).toMatchObject({ result: 0, shaobing: 'nothing-paged' });
    expect((await status(a)).status).toBe('open');
  });
});
