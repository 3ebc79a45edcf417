import Fastify from 'fastify';
import { isShaobingError } from '../../core/errors';
import { silentLogger } from '../../core/logger';
import type { AlertEvent, Delivery } from '../../core/records';
import { ackRoutes, createAckToken, verifyAckToken } from '../../notify/ack';
import { createSenders } from '../../notify/channels';
import { ChannelsSchema } from '../../notify/config';
import { Notifier } from '../../notify/notifier';
import type { Store } from '../../store/types';
import { removeDataDir, storeFor, testConfig } from '../support/backends';
import { alert } from '../support/records';
import { bj, providerServer, testRoster, type ProviderServer } from './helpers';

const SECRET = 'ack-secret-0123456789-0123456789-abc';
const MIN = 60_000;

function smsTo(server: ProviderServer): string[] {
  return server.received.map((r) => new URLSearchParams(r.body).get('PhoneNumbers')!);
}

function linkIn(server: ProviderServer, index = -1): string {
  const params = new URLSearchParams(server.received.at(index)!.body);
  return JSON.parse(params.get('TemplateParam')!).link;
}

describe('acknowledgement tokens', () => {
  const id = 'c'.repeat(32);

  it('round-trips alert, person, expiry; is short enough for an SMS', () => {
    const token = createAckToken({ alertId: id, person: 'zhang', expiresAt: Date.parse('2026-03-06T00:00:00Z') }, SECRET);
    expect(token.length).toBeLessThan(60);
    expect(verifyAckToken(token, SECRET, Date.parse('2026-03-05T00:00:00Z'))).toMatchObject({ alertId: id, person: 'zhang', expiresAt: Date.parse('2026-03-06T00:00:00Z') });
  });

  it('refuses forged, tampered, expired and malformed tokens', () => {
    const token = createAckToken({ alertId: id, person: 'zhang', expiresAt: 2_000_000_000_000 }, SECRET);
    const other = createAckToken({ alertId: id, person: 'li', expiresAt: 2_000_000_000_000 }, SECRET);
    const tampered = `${other.split('.')[0]}.${token.split('.')[1]}`;
    const attempt = (t: string, secret: string, now: number) => { try { verifyAckToken(t, secret, now); return 'ok'; } catch (e) { return isShaobingError(e, 'SB_NOTIFY_ACK_INVALID') ? e.message : 'other'; } };
    expect(attempt(token, 'another-secret-0123456789-0123456789', 0)).toMatch(/wrong signature/);
    expect(attempt(tampered, SECRET, 0)).toMatch(/wrong signature/);
    expect(attempt('nonsense', SECRET, 0)).toMatch(/malformed/);
    expect(attempt(token, SECRET, 2_000_000_000_000)).toMatch(/expired/);
  });
});

describe('notifier end to end (embedded store, local provider endpoints)', () => {
  const config = testConfig('embedded');
  let store: Store;
  let aliyun: ProviderServer;
  let tencent: ProviderServer;
  let voice: ProviderServer;
  let clock = bj('2026-03-03 08:50');
  const roster = testRoster({ next_tier: ['qian'] });

  const notifierWith = (channels: unknown, extra: Partial<ConstructorParameters<typeof Notifier>[0]> = {}) =>
    new Notifier({
      store,
      roster,
      senders: createSenders(ChannelsSchema.parse(channels), { now: () => clock }),
      log: silentLogger,
      now: () => clock,
      ack: { secret: SECRET, publicUrl: 'https://duty.example.cn', ttlMs: 24 * 60 * MIN },
      operators: ['ops'],
      retryDelayMs: { initial: 1, max: 5 },
      ...extra,
    });

  const event = (a: { id: string; title: string; level: 1 | 2 | 3 }, type: AlertEvent['type'] = 'opened'): AlertEvent => ({
    id: `${a.id}:${type}${type === 'escalated' ? `:${a.level}` : ''}`, type, alert_id: a.id, topic: 'chemical-blast', title: a.title, level: a.level, at: new Date(clock).toISOString(),
  });

  /** The acknowledgement routes as the notifier role serves them, on a loopback port. */
  const ackServer = async (onAcknowledged?: (alertId: string) => void) => {
    const app = Fastify();
    await app.register(ackRoutes, { store, secret: SECRET, log: silentLogger, now: () => clock, ...(onAcknowledged ? { onAcknowledged } : {}) });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return { url, close: () => app.close() };
  };

  const deliveries = async (alertId: string): Promise<Delivery[]> => (await store.searchDeliveries({ alert_id: [alertId], order: 'asc', size: 1000 })).items;

  beforeAll(async () => {
    store = storeFor(config);
    await store.init();
    aliyun = await providerServer(() => ({ status: 200, body: { Code: 'OK', Message: 'OK' } }));
    tencent = await providerServer(() => ({ status: 200, body: { Response: { SendStatusSet: [{ Code: 'Ok', Message: 'ok' }] } } }));
    voice = await providerServer(() => ({ status: 200, body: { Code: 'OK', CallId: 'c' } }));
  });

  afterAll(async () => {
    await Promise.all([aliyun.close(), tencent.close(), voice.close()]);
    await store.close();
    removeDataDir(config);
  });

  const channels = () => ({
    sms: [
      { provider: 'aliyun', access_key_id: 'id', access_key_secret: 'secret', sign_name: 's', template_code: 't', endpoint: aliyun.url, max_attempts: 2 },
      { provider: 'tencent', secret_id: 'id', secret_key: 'key', sdk_app_id: '1', sign_name: 's', template_id: '1', endpoint: tencent.url },
    ],
    voice: { provider: 'aliyun', access_key_id: 'id', access_key_secret: 'secret', called_show_number: '0571', tts_code: 'T', endpoint: voice.url },
  });

  it('一级: SMS and voice to duty and leader, repeats every 5 min, next tier at 10; a tap on the link stops it for everyone', async () => {
    clock = bj('2026-03-03 08:50');
    const a = alert({ key: 'level1', level: 1, title: '化工厂爆炸' });
    await store.createAlert(a);
    const notifier = notifierWith(channels());
    aliyun.received.length = 0;

    await notifier.handleEvent(event(a));
    // 08:50 on 2026-03-03: zhang still holds the shift that began 03-02 09:00; zhao leads.
    expect(smsTo(aliyun).sort()).toEqual(['13800000001', '13800000009']);
    expect(voice.received).toHaveLength(2);
    expect(linkIn(aliyun)).toMatch(/^https:\/\/duty\.example\.cn\/ack\/[\w-]+\.[\w-]+$/);

    // A redelivered event pages nobody again.
    await notifier.handleEvent(event(a));
    expect(aliyun.received).toHaveLength(2);

    // 5 minutes on: the second round. 10 minutes on, after the 09:00 handover: li, not zhang, and the next tier joins.
    clock += 5 * MIN;
    await notifier.tick();
    expect(smsTo(aliyun).slice(2).sort()).toEqual(['13800000001', '13800000009']);
    clock += 5 * MIN;
    await notifier.tick();
    expect(smsTo(aliyun).slice(4).sort()).toEqual(['13800000002', '13800000009', '13800000010']);

    // li taps the link (the daemon serves it; here the same plugin on a test instance).
    const app = await ackServer((id) => notifier.acknowledged(id));
    const link = `${app.url}/ack/${linkIn(aliyun).split('/ack/')[1]!}`;
    const preview = await fetch(link);
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain('<form method="post">');
    expect((await store.getAlert(a.id))?.value.status).toBe('open');
    const ack = await fetch(link, { method: 'POST' });
    expect(ack.status).toBe(200);
    const acked = (await store.getAlert(a.id))!.value;
    expect(acked.status).toBe('acknowledged');
    expect(acked.history.at(-1)).toMatchObject({ action: 'acknowledged', via: 'link' });
    const again = await fetch(link, { method: 'POST' });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('used already');
    await app.close();

    const before = aliyun.received.length;
    clock += 30 * MIN;
    await notifier.tick();
    expect(aliyun.received).toHaveLength(before);

    // Every attempt is in the store, with masked recipients only.
    const log = await deliveries(a.id);
    expect(log.filter((d) => d.channel === 'sms' && d.status === 'sent')).toHaveLength(7);
    expect(log.filter((d) => d.channel === 'voice')).toHaveLength(7);
    expect(new Set(log.map((d) => d.recipient))).toEqual(new Set(['138****0001', '138****0002', '138****0009', '138****0010']));
    expect(JSON.stringify(log)).not.toMatch(/1380000000\d|secret/);
  });

  it('fails over to the next provider when the first is down, and a level rise re-notifies; closing sends "resolved"', async () => {
    clock = bj('2026-03-04 10:00');
    const a = alert({ key: 'failover', level: 2, title: '道路塌陷' });
    const created = await store.createAlert(a);
    const notifier = notifierWith(channels());
    aliyun.answer(() => ({ status: 503, body: 'busy' }));
    tencent.received.length = 0;
    await notifier.handleEvent(event(a));
    // wang is on duty on 03-04; the first provider was tried twice (max_attempts 2) then Tencent took over.
    expect(tencent.received.map((r) => JSON.parse(r.body).PhoneNumberSet[0])).toEqual(['+8613800000003']);
    const log = await deliveries(a.id);
    expect(log.map((d) => [d.person, d.status, d.attempt, d.error?.split(':')[0]]).sort()).toEqual([['wang', 'failed', 1, 'sms'], ['wang', 'failed', 2, 'sms'], ['wang', 'sent', 1, undefined]]);
    expect(log.find((d) => d.status === 'failed')!.error).toMatch(/sms:aliyun: aliyun sms: HTTP 503/);
    aliyun.answer(() => ({ status: 200, body: { Code: 'OK' } }));

    await store.updateAlert({ ...a, level: 1 }, created.version);
    aliyun.received.length = 0;
    await notifier.handleEvent(event({ ...a, level: 1 }, 'escalated'));
    expect(smsTo(aliyun).sort()).toEqual(['13800000003', '13800000009']);

    const current = (await store.getAlert(a.id))!;
    await store.updateAlert({ ...current.value, status: 'closed', history: [...current.value.history, { at: new Date(clock).toISOString(), action: 'closed', by: '赵主任', note: '已处置' }] }, current.version);
    aliyun.received.length = 0;
    clock += MIN;
    await notifier.tick();
    expect(smsTo(aliyun).sort()).toEqual(['13800000003', '13800000009']);
    expect(notifier.activeAlerts).not.toContain(a.id);
  });

  it('when every channel fails, the operators are told', async () => {
    clock = bj('2026-03-05 10:00');
    const a = alert({ key: 'all-down', level: 2, title: '全部失败' });
    await store.createAlert(a);
    const down = await providerServer(() => ({ status: 500, body: 'down' }));
    const ops = await providerServer(() => ({ status: 200, body: { Code: 'OK' } }));
    // The duty person is reached by the dead provider only; ops by the working one (through a webhook-less roster channel: email is absent, so sms).
    const notifier = notifierWith({ sms: [{ provider: 'http', url: down.url, max_attempts: 2 }] });
    await notifier.handleEvent(event(a));
    expect(down.received.length).toBeGreaterThanOrEqual(3); // zhang ×2, then the operator alert to ops ×2
    const failed = (await deliveries(a.id)).filter((d) => d.status === 'failed');
    expect(failed).toHaveLength(2);
    const operator = (await store.searchDeliveries({ alert_id: ['operator'], size: 10 })).items;
    expect(operator.map((d) => d.person)).toContain('ops');
    await Promise.all([down.close(), ops.close()]);
  });

  it('三级 go to a digest every 30 minutes, held in quiet hours', async () => {
    clock = bj('2026-03-05 21:50');
    const robot = await providerServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
    const notifier = notifierWith({ wecom: { webhook: `${robot.url}send?key=k` } }, { quietHours: { from: '22:00', to: '07:00' } });
    for (const key of ['d1', 'd2']) {
      const a = alert({ key, level: 3, title: `小区火情 ${key}` });
      await store.createAlert(a);
      await notifier.handleEvent(event(a));
    }
    expect(robot.received).toHaveLength(0);
    clock = bj('2026-03-05 22:20');
    await notifier.tick();
    expect(robot.received).toHaveLength(0);
    clock = bj('2026-03-06 07:00');
    await notifier.tick();
    expect(robot.received).toHaveLength(1);
    expect(JSON.parse(robot.received[0]!.body).text.content).toMatch(/三级舆情汇总】2 条[\s\S]*小区火情 d1[\s\S]*小区火情 d2/);
    await robot.close();
  });

  it('after a restart: a redelivered event resumes its escalation instead of paging again; an alert closed meanwhile gets its "resolved" notice', async () => {
    clock = bj('2026-03-07 10:00');
    const a = alert({ key: 'restart', level: 2, title: '桥梁垮塌' });
    await store.createAlert(a);
    aliyun.received.length = 0;
    await notifierWith(channels()).handleEvent(event(a));
    // wang holds the shift of 03-07.
    expect(smsTo(aliyun)).toEqual(['13800000003']);

    const second = notifierWith(channels());
    expect(await second.resume()).toContain(a.id);
    await second.handleEvent(event(a));
    expect(aliyun.received).toHaveLength(1);
    clock += 15 * MIN;
    await second.tick();
    await second.tick();
    expect(smsTo(aliyun)).toEqual(['13800000003', '13800000009']);

    // Closed while no notifier runs: the next one tells both who were paged, once.
    const current = (await store.getAlert(a.id))!;
    await store.updateAlert({ ...current.value, status: 'closed', history: [...current.value.history, { at: new Date(clock).toISOString(), action: 'closed', by: '赵主任', note: '已处置' }] }, current.version);
    const third = notifierWith(channels());
    await third.resume();
    await third.tick();
    expect(smsTo(aliyun).slice(2).sort()).toEqual(['13800000003', '13800000009']);
    expect(new URLSearchParams(aliyun.received.at(-1)!.body).get('TemplateParam')).toContain('桥梁垮塌');
    const fourth = notifierWith(channels());
    expect(await fourth.resume()).not.toContain(a.id);
  });

  it('a drill goes through the chain, marked, and reports time to deliver and to acknowledge', async () => {
    clock = bj('2026-03-06 10:00');
    aliyun.received.length = 0;
    const notifier = notifierWith(channels());
    const drill = await notifier.startDrill(2);
    expect(new URLSearchParams(aliyun.received[0]!.body).get('TemplateParam')).toContain('【演练】');
    clock += 2 * MIN;
    const app = await ackServer();
    expect((await fetch(`${app.url}/ack/${linkIn(aliyun, 0).split('/ack/')[1]}`, { method: 'POST' })).status).toBe(200);
    await app.close();
    const report = await notifier.drillReport(drill.id);
    expect(report).toEqual([{ person: 'li', name: '李四', delivered_ms: 0, channel: 'sms', acknowledged_ms: 2 * MIN, failed_attempts: 0 }]);
  });
});
