import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldAlert } from '../../alerts/fold';
import { applyAction } from '../../alerts/lifecycle';
import type { Alert, IndexedDocument } from '../../core/records';
import { stableId } from '../../core/records';
import type { DocumentSummary } from '../../store/types';
import { tempFiles } from '../rules/fixtures';
import { alert, doc } from '../support/records';
import { type ConsoleClient, startConsole, type TestConsole } from './helpers';

const TOPICS = `topics:
  - id: chem
    name: 化工安全
    subject: [化工厂, PX项目]
    event: [爆炸, 火灾]
    alert_on: any
    level: 2
`;

/** Reads Server-Sent Events from a fetch response, frame by frame. */
function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    /** The next `event: alert` whose data satisfies `check`, within `timeoutMs`. */
    async next(check: (data: any) => boolean, timeoutMs = 10_000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event === 'alert' && data && check(JSON.parse(data))) return JSON.parse(data);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no matching event in time');
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([reader.read(), new Promise<'timeout'>((r) => (timer = setTimeout(r, left, 'timeout')))]).finally(() => clearTimeout(timer));
        if (chunk === 'timeout') throw new Error('no matching event in time');
        if (chunk.done) throw new Error('stream ended');
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

const CLUSTER = stableId('cluster', 'chem-1');
const chemAlert = alert({ key: 'chem-1', topic: 'chem', cluster_id: CLUSTER, level: 2, title: '珠海化工厂爆炸', history: [{ at: '2026-03-05T10:20:00+08:00', action: 'opened', by: 'system', to_level: 2 }] });

function chemDoc(key: string, fields: Partial<IndexedDocument>): IndexedDocument {
  return doc({ key, topics: ['chem'], cluster_id: CLUSTER, ...fields });
}

const DOCS = {
  simplified: chemDoc('s', {
    title: '珠海化工厂爆炸',
    text: '今日，广东珠海高栏港一化工厂发生爆炸，现场火光冲天。',
    published_at: '2026-03-05T15:30:00Z',
    metrics: { reposts: 10 },
  }),
  traditional: chemDoc('t', {
    platform: 'weibo',
    title: '珠海化工廠發生爆炸',
    text: '今日，廣東珠海高欄港一化工廠發生爆炸，現場火光沖天。',
    published_at: '2026-03-05T15:45:00Z',
    metrics: { reposts: 5 },
  }),
  fullWidth: chemDoc('f', {
    title: '市民反对ＰＸ项目',
    text: '🔥多名市民聚集反对ＰＸ项目，附近一处仓库发生火灾。',
    published_at: '2026-03-05T16:30:00Z',
    metrics: { reposts: 1 },
  }),
};

describe('console alerts API', () => {
  let c: TestConsole;
  let duty: ConsoleClient;
  let analyst: ConsoleClient;
  const queue = [
    alert({ key: 'q1', level: 3, last_seen_at: '2026-03-05T12:00:00+08:00', platforms: ['news'], tokens: '煤矿 透水' }),
    alert({ key: 'q2', level: 1, last_seen_at: '2026-03-05T09:00:00+08:00', platforms: ['weibo'], topic: 'flood' }),
    alert({ key: 'q3', level: 2, last_seen_at: '2026-03-05T11:00:00+08:00', platforms: ['news', 'weibo'], status: 'acknowledged' }),
    alert({ key: 'q4', level: 1, last_seen_at: '2026-03-05T10:00:00+08:00', platforms: ['wechat'], status: 'closed' }),
  ];

  beforeAll(async () => {
    const dir = tempFiles({ 'chem.yaml': TOPICS });
    c = await startConsole({
      users: [{ name: 'u-duty', role: 'duty' }, { name: 'u-analyst', role: 'analyst' }],
      rules: [join(dir, 'chem.yaml')],
      pollMs: 300,
    });
    for (const a of [...queue, chemAlert]) await c.store.createAlert(a);
    await c.store.putDocuments(Object.values(DOCS));
    await c.store.putDeliveries([
      { id: 'd1', alert_id: chemAlert.id, event_id: `${chemAlert.id}:opened`, person: 'p1', channel: 'sms', recipient: '138****0000', attempt: 1, status: 'sent', latency_ms: 120, at: '2026-03-05T10:21:00+08:00' },
    ]);
    await c.store.refresh();
    duty = await c.login('u-duty');
    analyst = await c.login('u-analyst');
  });
  afterAll(() => c.close());

  const ids = (body: { items: Array<{ id: string }> }) => body.items.map((i) => i.id);
  const id = (key: string) => stableId('alert', key);

  it('orders the queue by severity (most severe, then newest) or by recency', async () => {
    const severity = await duty.get('/api/alerts?order=severity');
    expect(severity.status).toBe(200);
    expect(ids(severity.body).filter((i) => i !== chemAlert.id)).toEqual([id('q4'), id('q2'), id('q3'), id('q1')]);
    const recent = await duty.get('/api/alerts?order=recent');
    expect(ids(recent.body).filter((i) => i !== chemAlert.id)).toEqual([id('q1'), id('q3'), id('q4'), id('q2')]);
    expect(recent.body.total).toBe(5);
    const item = recent.body.items.find((i: Alert) => i.id === id('q1'));
    expect(item.version).toEqual(expect.any(String));
    expect(item).not.toHaveProperty('outbox');
    expect(item).not.toHaveProperty('tokens');
  });

  it('filters the queue by level, status, topic, platform, time and text', async () => {
    const query = async (qs: string) => ids((await duty.get(`/api/alerts?order=recent&${qs}`)).body).filter((i) => i !== chemAlert.id);
    expect(await query('level=1,2')).toEqual([id('q3'), id('q4'), id('q2')]);
    expect(await query('level=1&level=3')).toEqual([id('q1'), id('q4'), id('q2')]);
    expect(await query('status=acknowledged,closed')).toEqual([id('q3'), id('q4')]);
    expect(await query('topic=flood')).toEqual([id('q2')]);
    expect(await query('platform=weibo')).toEqual([id('q3'), id('q2')]);
    expect(await query(`from=${encodeURIComponent('2026-03-05T10:00:00+08:00')}&to=${encodeURIComponent('2026-03-05T11:30:00+08:00')}`)).toEqual([id('q3'), id('q4')]);
    expect(await query(`q=${encodeURIComponent('煤矿')}`)).toEqual([id('q1')]);
    const bad = await duty.get('/api/alerts?level=4');
    expect(bad).toMatchObject({ status: 400, body: { code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringContaining('query.level') } });
  });

  it('shows one alert with its version, and 404 for an unknown one', async () => {
    const found = await duty.get(`/api/alerts/${chemAlert.id}`);
    expect(found.status).toBe(200);
    expect(found.body.alert).toMatchObject({ id: chemAlert.id, title: '珠海化工厂爆炸', level: 2 });
    expect(found.body.version).toBe(found.body.alert.version);
    expect(await duty.get(`/api/alerts/${'f'.repeat(32)}`)).toMatchObject({ status: 404, body: { code: 'SB_CONSOLE_NOT_FOUND' } });
  });

  it('lists the cluster’s documents with hits at the keywords in the original text (Traditional, full-width, after an emoji)', async () => {
    const response = await duty.get(`/api/alerts/${chemAlert.id}/documents?size=10`);
    expect(response.status).toBe(200);
    expect(response.body.total).toBe(3);
    const byId = new Map(response.body.items.map((d: any) => [d.id, d]));
    const located = (d: IndexedDocument) => {
      const item = byId.get(d.id) as { title: string; text: string; hits: Array<{ field: 'title' | 'text'; start: number; end: number; keyword: string }> };
      return item.hits.map((h) => `${h.field}:${item[h.field].slice(h.start, h.end)}=${h.keyword}`);
    };
    expect(located(DOCS.simplified)).toEqual(['title:化工厂=化工厂', 'title:爆炸=爆炸', 'text:化工厂=化工厂', 'text:爆炸=爆炸']);
    expect(located(DOCS.traditional)).toEqual(['title:化工廠=化工厂', 'title:爆炸=爆炸', 'text:化工廠=化工厂', 'text:爆炸=爆炸']);
    expect(located(DOCS.fullWidth)).toEqual(['title:ＰＸ项目=PX项目', 'text:ＰＸ项目=PX项目', 'text:火灾=火灾']);
    const first = response.body.items[0];
    expect(first).toMatchObject({ id: DOCS.simplified.id, platform: 'news', source: '新华网', url: DOCS.simplified.url, metrics: { reposts: 10 } });
    expect(first).not.toHaveProperty('tokens');
  });

  it('draws the spread timeline by hour and by local day, with reposts per bucket', async () => {
    const hours = await duty.get(`/api/alerts/${chemAlert.id}/timeline?interval=hour`);
    expect(hours.body.buckets).toEqual([
      { key: '2026-03-05T15:00:00.000Z', documents: 2, reposts: 15 },
      { key: '2026-03-05T16:00:00.000Z', documents: 1, reposts: 1 },
    ]);
    // 15:30Z and 15:45Z are 23:30 and 23:45 in Shanghai; 16:30Z is already the next day there.
    const days = await duty.get(`/api/alerts/${chemAlert.id}/timeline?interval=day`);
    expect(days.body.buckets).toEqual([
      { key: '2026-03-04T16:00:00.000Z', documents: 2, reposts: 15 },
      { key: '2026-03-05T16:00:00.000Z', documents: 1, reposts: 1 },
    ]);
  });

  it('lists the notifier’s deliveries for the alert', async () => {
    const response = await duty.get(`/api/alerts/${chemAlert.id}/deliveries`);
    expect(response.body).toMatchObject({ total: 1, items: [{ id: 'd1', channel: 'sms', recipient: '138****0000', status: 'sent' }] });
  });

  it('handles an alert from open to closed and back, each step in the history and the audit log', async () => {
    let version = (await duty.get(`/api/alerts/${id('q1')}`)).body.version as string;
    const act = (client: ConsoleClient, body: Record<string, unknown>) => client.post(`/api/alerts/${id('q1')}/actions`, { version, ...body });
    const steps: Array<[ConsoleClient, Record<string, unknown>, Partial<Alert>, Record<string, unknown>]> = [
      [duty, { action: 'acknowledge', note: '已收到' }, { status: 'acknowledged' }, { action: 'acknowledged', by: 'u-duty', via: 'console', note: '已收到' }],
      [analyst, { action: 'assign', assignee: '宣传科 王' }, { assignee: '宣传科 王' }, { action: 'assigned', by: 'u-analyst' }],
      [duty, { action: 'note', note: '已联系属地核实' }, {}, { action: 'noted', note: '已联系属地核实' }],
      [analyst, { action: 'level', level: 1, note: '涉及人员伤亡' }, { level: 1 }, { action: 'level_changed', from_level: 3, to_level: 1, note: '涉及人员伤亡' }],
      [duty, { action: 'close', summary: '已处置完毕，属地已发布通报' }, { status: 'closed', closed_doc_count: 1 }, { action: 'closed', note: '已处置完毕，属地已发布通报' }],
      [analyst, { action: 'reopen', note: '出现新的报道' }, { status: 'open' }, { action: 'reopened', note: '出现新的报道' }],
    ];
    for (const [client, body, expected, entry] of steps) {
      const response = await act(client, body);
      expect(response.status).toBe(200);
      expect(response.body.alert).toMatchObject(expected);
      expect(response.body.alert.history.at(-1)).toMatchObject({ via: 'console', ...entry });
      expect(response.body.version).not.toBe(version);
      version = response.body.version;
    }
    const stored = (await c.store.getAlert(id('q1')))!.value;
    expect(stored.history.map((h) => h.action)).toEqual(['opened', 'acknowledged', 'assigned', 'noted', 'level_changed', 'closed', 'reopened']);
    await c.store.refresh();
    const audit = await c.store.searchAudit({ target: [`alert:${id('q1')}`], size: 100 });
    expect(audit.items.map((e) => e.action).reverse()).toEqual(['alert.acknowledge', 'alert.assign', 'alert.note', 'alert.level', 'alert.close', 'alert.reopen']);
    expect(audit.items.find((e) => e.action === 'alert.level')).toMatchObject({ user: 'u-analyst', before: { status: 'acknowledged', level: 3 }, after: { level: 1 }, note: '涉及人员伤亡' });
  });

  it('asks for a reason to change the level and a summary to close: 400 naming the field', async () => {
    const current = await duty.get(`/api/alerts/${id('q2')}`);
    const level = await duty.post(`/api/alerts/${id('q2')}/actions`, { action: 'level', level: 3, version: current.body.version });
    expect(level).toMatchObject({ status: 400, body: { code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringContaining('body.note') } });
    const close = await duty.post(`/api/alerts/${id('q2')}/actions`, { action: 'close', version: current.body.version });
    expect(close).toMatchObject({ status: 400, body: { message: expect.stringContaining('body.summary') } });
  });

  it('refuses a stale version with 409 SB_STORE_CONFLICT, and a move the status forbids with 409 SB_ALERT_TRANSITION', async () => {
    const current = await duty.get(`/api/alerts/${id('q2')}`);
    const first = await duty.post(`/api/alerts/${id('q2')}/actions`, { action: 'note', note: '第一条', version: current.body.version });
    expect(first.status).toBe(200);
    const stale = await analyst.post(`/api/alerts/${id('q2')}/actions`, { action: 'note', note: '基于旧版本', version: current.body.version });
    expect(stale).toMatchObject({ status: 409, body: { code: 'SB_STORE_CONFLICT', details: { version: first.body.version } } });
    const closed = await duty.get(`/api/alerts/${id('q4')}`);
    const ack = await duty.post(`/api/alerts/${id('q4')}/actions`, { action: 'acknowledge', version: closed.body.version });
    expect(ack).toMatchObject({ status: 409, body: { code: 'SB_ALERT_TRANSITION' } });
  });

  it('streams changes: the console’s own at once, the pipeline’s by polling the store', async () => {
    const stream = await duty.fetch('/api/alerts/stream');
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('content-security-policy')).toContain("default-src 'self'");
    const events = sseReader(stream);
    try {
      // Let the poller take its first look before anything changes.
      await new Promise((r) => setTimeout(r, 700));
      const current = await analyst.get(`/api/alerts/${id('q3')}`);
      await analyst.post(`/api/alerts/${id('q3')}/actions`, { action: 'note', note: '推送测试', version: current.body.version });
      const mine = await events.next((a) => a.id === id('q3') && a.history.at(-1)?.note === '推送测试');
      expect(mine).not.toHaveProperty('outbox');

      const stored = (await c.store.getAlert(chemAlert.id))!;
      await c.store.updateAlert({ ...stored.value, doc_count: 42 }, stored.version);
      const polled = await events.next((a) => a.id === chemAlert.id && a.doc_count === 42);
      expect(polled.version).not.toBe(stored.version);
    } finally {
      await events.cancel();
    }
  });

  it('keeps a level set by hand when the pipeline folds the cluster again, unless its own level rises above it', () => {
    const summary: DocumentSummary = { count: 3, sources: [], platforms: [], reposts: 0, comments: 0, peak_per_hour: 0, first_at: '2026-03-05T02:00:00.000Z', last_at: '2026-03-05T03:00:00.000Z' };
    const lowered = applyAction(chemAlert, { action: 'change_level', level: 3, note: '经核实为演练', by: 'u-analyst', at: '2026-03-05T11:00:00+08:00', via: 'console' });
    const topic = { id: 'chem', name: '化工安全', level: 2 as const, policy: 'default' };
    const signals = { sentiment: -0.5, severity_words: [], title: '珠海化工厂爆炸', at: '2026-03-05T03:00:00.000Z' };
    const fold = (level: 1 | 2 | 3) => foldAlert(lowered, { topic, cluster_id: CLUSTER, signals, summary }, { decide: () => ({ level, reasons: [`level ${level}`] }) });
    // The pipeline still decides 2 (what it decided before the change): the hand-set 3 stays.
    expect(fold(2)?.level ?? lowered.level).toBe(3);
    // It now decides 1, above its own earlier 2: the story got worse, and it escalates.
    const escalated = fold(1)!;
    expect(escalated.level).toBe(1);
    expect(escalated.history.at(-1)).toMatchObject({ action: 'escalated', by: 'system', from_level: 3, to_level: 1 });
    // A level raised by hand is never lowered by the pipeline.
    const raised = applyAction(chemAlert, { action: 'change_level', level: 1, note: '领导关注', by: 'u-analyst', at: '2026-03-05T11:00:00+08:00' });
    expect(foldAlert(raised, { topic, cluster_id: CLUSTER, signals, summary }, { decide: () => ({ level: 2, reasons: [] }) })?.level ?? 1).toBe(1);
  });
});
