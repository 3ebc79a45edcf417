import { isShaobingError } from '../../core/errors';
import { stableId, type AuditEntry, type Delivery } from '../../core/records';
import { StoreBulkError } from '../../store';
import type { NumberRange, Store } from '../../store/types';
import { backendKinds, openDatabaseFor, removeDataDir, storeFor, testConfig } from '../support/backends';
import { alert, doc, REAL_TEXTS } from '../support/records';

describe.each(backendKinds)('Store contract (%s)', (kind) => {
  const config = testConfig(kind);
  let store: Store;

  beforeAll(async () => {
    store = storeFor(config);
    await store.init();
    await store.init();
  });

  afterAll(async () => {
    await store.close();
    await store.close();
    removeDataDir(config);
  });

  describe('documents', () => {
    const fire = doc({ key: 'fire', platform: 'weibo', source: '央视新闻', topics: ['fire', 'forest'], level: 1, cluster_id: 'c1',
      tokens: '四川 凉山州 木里县 发生 森林 火灾', published_at: '2026-03-05T15:30:00Z', text: REAL_TEXTS[2]! });
    const flood = doc({ key: 'flood', platform: 'news', source: '新华网', topics: ['flood'], level: 2, cluster_id: 'c2',
      tokens: '国务院 新闻办公室 防汛 抗旱 iPhone', published_at: '2026-03-05T16:30:00Z', text: REAL_TEXTS[1]! });
    const hospital = doc({ key: 'hospital', platform: 'weibo', source: '央视新闻', topics: ['fire'], level: 3, cluster_id: 'c1',
      tokens: '武汉 火神山 医院 今天 交付', published_at: '2026-03-07T01:00:00Z' });

    beforeAll(async () => {
      await store.putDocuments([fire, flood, hospital]);
      // Written twice, with a change: still one record each, the latest content.
      await store.putDocuments([{ ...fire, title: '木里县森林火灾' }]);
      await store.refresh();
    });

    it('gets a document by id and nothing for an unknown id', async () => {
      expect(await store.getDocument(fire.id)).toEqual({ ...fire, title: '木里县森林火灾' });
      expect(await store.getDocument('0'.repeat(32))).toBeUndefined();
    });

    it('keeps one record per id however often it is written', async () => {
      const all = await store.searchDocuments({ size: 100 });
      expect(all.total).toBe(3);
      expect(all.items.map((d) => d.id).sort()).toEqual([fire.id, flood.id, hospital.id].sort());
    });

    it('filters by time range: from inclusive, to exclusive', async () => {
      const r = await store.searchDocuments({ time: { from: '2026-03-05T15:30:00Z', to: '2026-03-05T16:30:00Z' } });
      expect(r.items.map((d) => d.id)).toEqual([fire.id]);
    });

    it('filters by platform, source, topic, level and cluster', async () => {
      expect((await store.searchDocuments({ platform: ['weibo'] })).total).toBe(2);
      expect((await store.searchDocuments({ source: ['新华网'] })).items.map((d) => d.id)).toEqual([flood.id]);
      expect((await store.searchDocuments({ topic: ['forest', 'flood'] })).total).toBe(2);
      expect((await store.searchDocuments({ level: [1, 2] })).total).toBe(2);
      expect((await store.searchDocuments({ cluster_id: ['c1'], topic: ['fire'], level: [3] })).items.map((d) => d.id)).toEqual([hospital.id]);
    });

    it('searches Chinese text by tokens, all of them required, case-insensitive', async () => {
      expect((await store.searchDocuments({ text: '森林 火灾' })).items.map((d) => d.id)).toEqual([fire.id]);
      expect((await store.searchDocuments({ text: '森林 防汛' })).total).toBe(0);
      expect((await store.searchDocuments({ text: 'iphone' })).items.map((d) => d.id)).toEqual([flood.id]);
      // A substring of a token is not a token: matching happens on jieba's cuts, not characters.
      expect((await store.searchDocuments({ text: '森' })).total).toBe(0);
    });

    it('orders by publication time and pages', async () => {
      const newest = await store.searchDocuments({ size: 2 });
      expect(newest.total).toBe(3);
      expect(newest.items.map((d) => d.id)).toEqual([hospital.id, flood.id]);
      const rest = await store.searchDocuments({ size: 2, offset: 2 });
      expect(rest.items.map((d) => d.id)).toEqual([fire.id]);
      const oldest = await store.searchDocuments({ order: 'asc', size: 1 });
      expect(oldest.items.map((d) => d.id)).toEqual([fire.id]);
    });

    it('aggregates terms, counting each element of an array field', async () => {
      expect(await store.aggregateDocuments({}, { terms: 'platform' })).toEqual([
        { key: 'weibo', count: 2 },
        { key: 'news', count: 1 },
      ]);
      expect(await store.aggregateDocuments({}, { terms: 'topics' })).toEqual([
        { key: 'fire', count: 2 },
        { key: 'flood', count: 1 },
        { key: 'forest', count: 1 },
      ]);
      expect(await store.aggregateDocuments({ platform: ['weibo'] }, { terms: 'level' })).toEqual([
        { key: '1', count: 1 },
        { key: '3', count: 1 },
      ]);
    });

    it('buckets by calendar day in Beijing time, omitting empty days', async () => {
      // 15:30Z is 23:30 on the 5th in Beijing; 16:30Z is already 00:30 on the 6th.
      expect(await store.aggregateDocuments({}, { date_histogram: 'day' })).toEqual([
        { key: '2026-03-04T16:00:00.000Z', count: 1 },
        { key: '2026-03-05T16:00:00.000Z', count: 1 },
        { key: '2026-03-06T16:00:00.000Z', count: 1 },
      ]);
      expect(await store.aggregateDocuments({}, { date_histogram: 'day', time_zone: 'UTC' })).toEqual([
        { key: '2026-03-05T00:00:00.000Z', count: 2 },
        { key: '2026-03-07T00:00:00.000Z', count: 1 },
      ]);
    });

    it('finds near-duplicate candidates by any shared fingerprint band', async () => {
      const a = doc({ key: 'band-a', fingerprint: 'a'.repeat(512), fingerprint_bands: ['0:0123', '1:4567', '2:89ab', '3:cdef'] });
      const b = doc({ key: 'band-b', fingerprint: 'b'.repeat(512), fingerprint_bands: ['0:ffff', '1:4567', '2:89ab', '3:ffff'] });
      await store.putDocuments([a, b]);
      await store.refresh();
      expect((await store.searchDocuments({ fingerprint_bands: ['1:4567'] })).items.map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
      expect((await store.searchDocuments({ fingerprint_bands: ['0:0123', '3:0000'] })).items.map((d) => d.id)).toEqual([a.id]);
      expect((await store.searchDocuments({ fingerprint_bands: ['0:9999'] })).total).toBe(0);
    });

    it('lists what clustering needs of the newest documents in a time range, newest first', async () => {
      const at = (h: number) => `2026-04-0${1 + Math.floor(h / 24)}T${String(h % 24).padStart(2, '0')}:00:00.000Z`;
      const members = [0, 1, 2].map((h) => doc({ key: `member-${h}`, cluster_id: `m${h}`, published_at: at(h), fingerprint: 'c'.repeat(512), ...(h === 2 ? { parent_id: 'orig' } : {}) }));
      await store.putDocuments(members);
      await store.refresh('documents');
      expect(await store.listMembers({ time: { from: at(0), to: at(3) }, size: 2 })).toEqual([
        { id: members[2]!.id, cluster_id: 'm2', published_at: at(2), fingerprint: 'c'.repeat(512), parent_id: 'orig' },
        { id: members[1]!.id, cluster_id: 'm1', published_at: at(1), fingerprint: 'c'.repeat(512) },
      ]);
      expect((await store.listMembers({ time: { from: at(0), to: at(1) }, size: 10 })).map((m) => m.id)).toEqual([members[0]!.id]);
    });

    it('splits several queries’ documents at a time at once: the older counted, the newer listed', async () => {
      const figures = ({ published_at, source, platform, metrics }: typeof fire) => ({ published_at, source, platform, ...(metrics ? { metrics } : {}) });
      const [c1, everything, none] = await store.splitDocumentFigures([
        { query: { cluster_id: ['c1'] }, since: '2026-03-06T00:00:00Z' },
        { query: { cluster_id: ['c1', 'c2'] }, since: '2026-03-01T00:00:00Z' },
        { query: { cluster_id: ['none'] }, since: '2026-03-06T00:00:00Z' },
      ]);
      expect(c1!.since).toEqual({ total: 1, items: [figures(hospital)] });
      expect(c1!.before).toEqual({
        count: 1,
        first_at: '2026-03-05T15:30:00.000Z',
        last_at: '2026-03-05T15:30:00.000Z',
        reposts: 0,
        comments: 0,
        sources: [{ key: '央视新闻', count: 1 }],
        platforms: [{ key: 'weibo', count: 1 }],
        hours: [{ key: '2026-03-05T15:00:00.000Z', count: 1 }],
      });
      expect(everything!.since.items.map((d) => d.published_at)).toEqual([hospital, flood, fire].map((d) => d.published_at));
      expect(everything!.before).toMatchObject({ count: 0, sources: [], hours: [] });
      expect(none).toEqual({ since: { total: 0, items: [] }, before: { count: 0, reposts: 0, comments: 0, sources: [], platforms: [], hours: [] } });
    });

    it('summarizes a cluster: counts, time span, sources, platforms, reposts, comments and peak hourly growth', async () => {
      const cluster = 'summary-cluster';
      await store.putDocuments([
        doc({ key: 'sum-1', cluster_id: cluster, topics: ['s'], source: '央视新闻', platform: 'weibo', published_at: '2026-05-01T08:00:00+08:00', metrics: { reposts: 120, comments: 30 } }),
        doc({ key: 'sum-2', cluster_id: cluster, topics: ['s'], source: '央视新闻', platform: 'weibo', published_at: '2026-05-01T09:30:00+08:00', metrics: { reposts: 5 } }),
        doc({ key: 'sum-3', cluster_id: cluster, topics: ['s'], source: '新华网', platform: 'news', published_at: '2026-05-01T09:45:00+08:00' }),
        doc({ key: 'sum-other', cluster_id: cluster, topics: ['other'], published_at: '2026-05-01T10:00:00+08:00', metrics: { reposts: 999 } }),
      ]);
      await store.refresh();
      const summary = await store.summarizeDocuments({ cluster_id: [cluster], topic: ['s'] });
      expect(summary).toEqual({
        count: 3,
        first_at: '2026-05-01T00:00:00.000Z',
        last_at: '2026-05-01T01:45:00.000Z',
        sources: [{ key: '央视新闻', count: 2 }, { key: '新华网', count: 1 }],
        platforms: [{ key: 'weibo', count: 2 }, { key: 'news', count: 1 }],
        reposts: 125,
        comments: 30,
        // 08:00 alone in its hour; 09:30 and 09:45 share one.
        peak_per_hour: 2,
      });
      const asOf = await store.summarizeDocuments({ cluster_id: [cluster], topic: ['s'], time: { to: '2026-05-01T01:31:00Z' } });
      expect(asOf).toMatchObject({ count: 2, last_at: '2026-05-01T01:30:00.000Z', reposts: 125, peak_per_hour: 1 });
      const none = await store.summarizeDocuments({ cluster_id: ['no-such-cluster'] });
      expect(none).toEqual({ count: 0, sources: [], platforms: [], reposts: 0, comments: 0, peak_per_hour: 0 });
    });

    it('filters by a sentiment range, bounds inclusive or exclusive as asked, and sums a metric per date bucket', async () => {
      const topic = 'sentiment-range';
      await store.putDocuments([
        doc({ key: 'sr-neg', topics: [topic], sentiment: -0.2, published_at: '2026-06-01T08:10:00+08:00', metrics: { reposts: 7 } }),
        doc({ key: 'sr-neu', topics: [topic], sentiment: 0, published_at: '2026-06-01T08:50:00+08:00', metrics: { reposts: 3, comments: 1 } }),
        doc({ key: 'sr-pos', topics: [topic], sentiment: 0.2, published_at: '2026-06-01T10:00:00+08:00' }),
        doc({ key: 'sr-none', topics: [topic], published_at: '2026-06-01T10:05:00+08:00', metrics: { reposts: 10 } }),
      ]);
      await store.refresh();
      const keys = async (sentiment: NumberRange) => (await store.searchDocuments({ topic: [topic], sentiment, order: 'asc' })).items.map((d) => d.sentiment);
      expect(await keys({ lte: -0.2 })).toEqual([-0.2]);
      expect(await keys({ gt: -0.2, lt: 0.2 })).toEqual([0]);
      expect(await keys({ gte: 0.2 })).toEqual([0.2]);
      expect(await keys({ gte: -1 })).toEqual([-0.2, 0, 0.2]);
      expect(await store.aggregateDocuments({ topic: [topic] }, { date_histogram: 'hour', sum: 'reposts' })).toEqual([
        { key: '2026-06-01T00:00:00.000Z', count: 2, sum: 10 },
        { key: '2026-06-01T02:00:00.000Z', count: 2, sum: 10 },
      ]);
      expect(await store.aggregateDocuments({ topic: [topic], sentiment: { lt: 0.2 } }, { date_histogram: 'day', sum: 'comments' })).toEqual([
        { key: '2026-05-31T16:00:00.000Z', count: 2, sum: 1 },
      ]);
    });

    it('stores the valid documents of a batch and reports the invalid ones by id, not retriable', async () => {
      const good = doc({ key: 'good' });
      const bad = { ...doc({ key: 'bad' }), published_at: 'yesterday' };
      const error = await store.putDocuments([good, bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreBulkError);
      expect((error as StoreBulkError).retriable).toBe(false);
      expect((error as StoreBulkError).failures.map((f) => f.id)).toEqual([bad.id]);
      expect(await store.getDocument(good.id)).toEqual(good);
      expect(await store.getDocument(bad.id)).toBeUndefined();
    });
  });

  describe('deliveries', () => {
    const delivery = (key: string, overrides: Partial<Delivery> = {}): Delivery => ({
      id: stableId('delivery', key),
      alert_id: 'alert-d',
      event_id: 'alert-d:opened',
      person: 'zhang',
      channel: 'sms',
      recipient: '138****0001',
      attempt: 1,
      status: 'sent',
      latency_ms: 120.5,
      at: '2026-03-05T02:00:00.000Z',
      ...overrides,
    });

    beforeAll(async () => {
      await store.putDeliveries([
        delivery('d1', { status: 'failed', error: 'sms:aliyun: HTTP 503' }),
        delivery('d2', { attempt: 2, at: '2026-03-05T02:00:01.000Z' }),
        delivery('d3', { person: 'zhao', channel: 'voice', event_id: 'alert-d:escalated:1', at: '2026-03-05T02:05:00.000Z' }),
        delivery('d4', { alert_id: 'other', at: '2026-03-05T03:00:00.000Z' }),
      ]);
      // Written again (a retried write): still one record.
      await store.putDeliveries([delivery('d2', { attempt: 2, at: '2026-03-05T02:00:01.000Z' })]);
      await store.refresh();
    });

    it('keeps one record per id and filters by alert, event, person, channel, status and time', async () => {
      const all = await store.searchDeliveries({ alert_id: ['alert-d'], order: 'asc' });
      expect(all.total).toBe(3);
      expect(all.items.map((d) => d.id)).toEqual([stableId('delivery', 'd1'), stableId('delivery', 'd2'), stableId('delivery', 'd3')]);
      expect(all.items[0]).toEqual(delivery('d1', { status: 'failed', error: 'sms:aliyun: HTTP 503' }));
      expect((await store.searchDeliveries({ event_id: ['alert-d:escalated:1'] })).items.map((d) => d.person)).toEqual(['zhao']);
      expect((await store.searchDeliveries({ person: ['zhang'], status: ['sent'] })).total).toBe(2);
      expect((await store.searchDeliveries({ channel: ['voice'] })).total).toBe(1);
      expect((await store.searchDeliveries({ time: { from: '2026-03-05T02:00:01Z', to: '2026-03-05T03:00:00Z' } })).items.map((d) => d.id)).toEqual([
        stableId('delivery', 'd3'),
        stableId('delivery', 'd2'),
      ]);
    });

    it('refuses an invalid delivery by id, not retriable', async () => {
      const error = await store.putDeliveries([{ ...delivery('bad'), status: 'maybe' as never }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreBulkError);
      expect((error as StoreBulkError).retriable).toBe(false);
    });
  });

  describe('alerts', () => {
    it('creates an alert once; a second create of the same id fails with SB_STORE_EXISTS', async () => {
      const a = alert({ key: 'create-once' });
      const created = await store.createAlert(a);
      expect(await store.getAlert(a.id)).toEqual(created);
      const again = await store.createAlert({ ...a, title: 'other' }).catch((e: unknown) => e);
      expect(isShaobingError(again, 'SB_STORE_EXISTS')).toBe(true);
      expect((await store.getAlert(a.id))?.value.title).toBe(a.title);
    });

    it('updates only from the current version; a stale version gets SB_STORE_CONFLICT', async () => {
      const a = alert({ key: 'occ' });
      const v1 = await store.createAlert(a);
      const escalated = { ...a, level: 2 as const, history: [...a.history, { at: a.opened_at, action: 'escalated' as const, by: 'system', from_level: 3 as const, to_level: 2 as const }] };
      const v2 = await store.updateAlert(escalated, v1.version);
      expect(v2.version).not.toBe(v1.version);
      const stale = await store.updateAlert({ ...a, level: 1 }, v1.version).catch((e: unknown) => e);
      expect(isShaobingError(stale, 'SB_STORE_CONFLICT')).toBe(true);
      expect((stale as { retriable: boolean }).retriable).toBe(true);
      expect(await store.getAlert(a.id)).toEqual(v2);
    });

    it('lets exactly one of two racing updates from the same version win', async () => {
      const a = alert({ key: 'race' });
      const v1 = await store.createAlert(a);
      const results = await Promise.allSettled([
        store.updateAlert({ ...a, doc_count: 2 }, v1.version),
        store.updateAlert({ ...a, doc_count: 3 }, v1.version),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(isShaobingError(loser.reason, 'SB_STORE_CONFLICT')).toBe(true);
    });

    it('finds the alerts whose outbox holds unpublished events', async () => {
      const pending = alert({ key: 'outbox-pending', topic: 'outbox' });
      const event = { id: `${pending.id}:opened`, type: 'opened' as const, alert_id: pending.id, topic: 'outbox', title: pending.title, level: 3 as const, at: pending.opened_at };
      const v1 = await store.createAlert({ ...pending, outbox: [event] });
      await store.createAlert(alert({ key: 'outbox-clear', topic: 'outbox', outbox: [] }));
      await store.refresh();
      expect((await store.searchAlerts({ topic: ['outbox'], with_outbox: true })).items.map((a) => a.value.id)).toEqual([pending.id]);
      await store.updateAlert({ ...pending, outbox: [] }, v1.version);
      await store.refresh();
      expect((await store.searchAlerts({ topic: ['outbox'], with_outbox: true })).total).toBe(0);
    });

    it('reads and writes several alerts at once, a lost race reported per alert', async () => {
      const [a, b, c] = ['many-a', 'many-b', 'many-c'].map((key) => alert({ key }));
      const existing = await store.createAlert(c!);
      const first = await store.writeAlerts([{ alert: a! }, { alert: b! }, { alert: { ...c!, doc_count: 7 }, expected: existing.version }]);
      expect(first.map((w) => w?.value.id)).toEqual([a!.id, b!.id, c!.id]);
      // A create of a taken id and an update from a stale version lose; the fresh update wins.
      const second = await store.writeAlerts([{ alert: a! }, { alert: { ...c!, doc_count: 9 }, expected: existing.version }, { alert: { ...b!, doc_count: 4 }, expected: first[1]!.version }]);
      expect(second.map((w) => w?.value.doc_count)).toEqual([undefined, undefined, 4]);
      const read = await store.getAlerts([a!.id, b!.id, c!.id, 'no-such-alert']);
      expect([...read.keys()].sort()).toEqual([a!.id, b!.id, c!.id].sort());
      expect(read.get(b!.id)).toEqual(second[2]);
      expect(read.get(c!.id)).toEqual(first[2]);
      expect(await store.getAlerts([])).toEqual(new Map());
    });

    it('returns nothing for an unknown alert', async () => {
      expect(await store.getAlert('no-such-alert')).toBeUndefined();
    });

    it('searches alerts by status, level, topic and text, most severe first when asked', async () => {
      const topic = 'search-topic';
      await store.createAlert(alert({ key: 's1', topic, level: 3, status: 'open', last_seen_at: '2026-04-01T10:00:00Z', tokens: '森林 火灾' }));
      await store.createAlert(alert({ key: 's2', topic, level: 1, status: 'open', last_seen_at: '2026-04-01T08:00:00Z', tokens: '化工厂 爆炸' }));
      await store.createAlert(alert({ key: 's3', topic, level: 2, status: 'closed', last_seen_at: '2026-04-01T12:00:00Z' }));
      await store.refresh();

      const recent = await store.searchAlerts({ topic: [topic] });
      expect(recent.items.map((a) => a.value.level)).toEqual([2, 3, 1]);
      const severe = await store.searchAlerts({ topic: [topic], order: 'severity' });
      expect(severe.items.map((a) => a.value.level)).toEqual([1, 2, 3]);
      expect((await store.searchAlerts({ topic: [topic], status: ['open'] })).total).toBe(2);
      expect((await store.searchAlerts({ topic: [topic], level: [1] })).items[0]?.value.tokens).toBe('化工厂 爆炸');
      expect((await store.searchAlerts({ topic: [topic], text: '爆炸' })).total).toBe(1);
      expect((await store.searchAlerts({ topic: [topic], time: { from: '2026-04-01T09:00:00Z' } })).total).toBe(2);

      const found = await store.searchAlerts({ topic: [topic], level: [1] });
      const fresh = await store.getAlert(found.items[0]!.value.id);
      // A version from a search is as good as one from a get.
      expect(found.items[0]!.version).toBe(fresh!.version);

      expect(await store.aggregateAlerts({ topic: [topic] }, { terms: 'status' })).toEqual([
        { key: 'open', count: 2 },
        { key: 'closed', count: 1 },
      ]);
      expect(await store.aggregateAlerts({ topic: [topic] }, { date_histogram: 'hour', time_zone: 'UTC' })).toEqual([
        { key: '2026-04-01T08:00:00.000Z', count: 1 },
        { key: '2026-04-01T10:00:00.000Z', count: 1 },
        { key: '2026-04-01T12:00:00.000Z', count: 1 },
      ]);
    });

    it('filters and buckets alerts by when they opened', async () => {
      const topic = 'opened-topic';
      await store.createAlert(alert({ key: 'o1', topic, opened_at: '2026-04-02T23:30:00+08:00', last_seen_at: '2026-04-03T12:00:00+08:00' }));
      await store.createAlert(alert({ key: 'o2', topic, level: 1, opened_at: '2026-04-03T00:30:00+08:00', last_seen_at: '2026-04-03T01:00:00+08:00' }));
      await store.createAlert(alert({ key: 'o3', topic, opened_at: '2026-04-03T09:00:00+08:00', last_seen_at: '2026-04-03T09:00:00+08:00' }));
      await store.refresh();
      const opened = { from: '2026-04-03T00:00:00+08:00', to: '2026-04-04T00:00:00+08:00' };
      expect((await store.searchAlerts({ topic: [topic], opened })).total).toBe(2);
      expect(await store.aggregateAlerts({ topic: [topic] }, { date_histogram: 'day', field: 'opened_at' })).toEqual([
        { key: '2026-04-01T16:00:00.000Z', count: 1 },
        { key: '2026-04-02T16:00:00.000Z', count: 2 },
      ]);
      expect(await store.aggregateAlerts({ topic: [topic], opened, level: [3] }, { date_histogram: 'hour', field: 'opened_at', time_zone: 'UTC' })).toEqual([
        { key: '2026-04-03T01:00:00.000Z', count: 1 },
      ]);
    });

    it('filters alerts by the platforms of their documents', async () => {
      const topic = 'platform-topic';
      await store.createAlert(alert({ key: 'p1', topic, platforms: ['weibo', 'news'] }));
      await store.createAlert(alert({ key: 'p2', topic, platforms: ['wechat'] }));
      await store.refresh();
      expect((await store.searchAlerts({ topic: [topic], platform: ['weibo'] })).items.map((a) => a.value.id)).toEqual([stableId('alert', 'p1')]);
      expect((await store.searchAlerts({ topic: [topic], platform: ['wechat', 'news'] })).total).toBe(2);
    });
  });

  describe('audit log', () => {
    const entry = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
      id: `0000${n}`.slice(-5) + 'a'.repeat(27),
      at: `2026-03-05T02:0${n}:00.000Z`,
      user: 'ana',
      action: 'alert.acknowledge',
      target: `alert:${n}`,
      ...overrides,
    });

    beforeAll(async () => {
      await store.putAudit([
        entry(1, { before: { status: 'open', level: 2 }, after: { status: 'acknowledged', level: 2 }, note: '已收到', ip: '10.0.0.8' }),
        entry(2, { user: 'cli:root', action: 'user.add', target: 'user:bob', after: { name: 'bob', role: 'duty', disabled: false } }),
        entry(3, { action: 'alert.close', target: 'alert:1', before: 'a string before', after: ['a', 'list'] }),
        entry(4, { user: 'bob', action: 'session.signin', target: 'user:bob' }),
      ]);
      // A retried import of the same entry, even altered, leaves the first one.
      await store.putAudit([entry(1, { note: 'changed on retry' })]);
      await store.refresh();
    });

    it('returns entries newest first, with before/after of any shape as written, one per id', async () => {
      const all = await store.searchAudit({});
      expect(all.total).toBe(4);
      expect(all.items.map((e) => e.target)).toEqual(['user:bob', 'alert:1', 'user:bob', 'alert:1']);
      expect(all.items[3]).toEqual(entry(1, { before: { status: 'open', level: 2 }, after: { status: 'acknowledged', level: 2 }, note: '已收到', ip: '10.0.0.8' }));
      expect(all.items[1]).toMatchObject({ before: 'a string before', after: ['a', 'list'] });
    });

    it('filters by user, action, target and time, and pages', async () => {
      expect((await store.searchAudit({ user: ['ana'] })).total).toBe(2);
      expect((await store.searchAudit({ user: ['cli:root'] })).items.map((e) => e.action)).toEqual(['user.add']);
      expect((await store.searchAudit({ action: ['alert.acknowledge', 'alert.close'] })).total).toBe(2);
      expect((await store.searchAudit({ target: ['user:bob'], action: ['session.signin'] })).items.map((e) => e.user)).toEqual(['bob']);
      expect((await store.searchAudit({ time: { from: '2026-03-05T02:02:00Z', to: '2026-03-05T02:04:00Z' } })).items.map((e) => e.id)).toEqual([entry(3).id, entry(2).id]);
      const page = await store.searchAudit({ size: 2, offset: 1 });
      expect(page.total).toBe(4);
      expect(page.items.map((e) => e.id)).toEqual([entry(3).id, entry(2).id]);
    });

    it('refuses an invalid entry by id, not retriable', async () => {
      const error = await store.putAudit([{ ...entry(9), user: '' }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreBulkError);
      expect((error as StoreBulkError).failures.map((f) => f.id)).toEqual([entry(9).id]);
      expect((error as StoreBulkError).retriable).toBe(false);
    });
  });
});

it('the embedded store survives a restart with its data', async () => {
  const config = testConfig('embedded');
  const first = storeFor(config);
  const d = doc({ key: 'persist' });
  await first.putDocuments([d]);
  await first.createAlert(alert({ key: 'persist' }));
  await first.close();

  const second = storeFor(config);
  expect(await second.getDocument(d.id)).toEqual(d);
  expect((await second.getAlert(alert({ key: 'persist' }).id))?.version).toBe('1');
  await second.close();
  removeDataDir(config);
});

it('the embedded store fills a column added by an upgrade from the records already stored', async () => {
  const config = testConfig('embedded');
  const first = storeFor(config);
  await first.putDocuments([doc({ key: 'old', sentiment: -0.5 })]);
  await first.createAlert(alert({ key: 'old', opened_at: '2026-03-05T10:00:00Z' }));
  await first.close();
  // What a data dir written before these columns existed looks like.
  const database = await openDatabaseFor(config)();
  await database.db.exec('ALTER TABLE documents DROP COLUMN sentiment; ALTER TABLE alerts DROP COLUMN opened_at;');
  await database.release();

  const second = storeFor(config);
  expect((await second.searchDocuments({ sentiment: { lt: 0 } })).total).toBe(1);
  expect((await second.searchAlerts({ opened: { from: '2026-03-05T00:00:00Z' } })).total).toBe(1);
  await second.close();
  removeDataDir(config);
});

it('refuses a second process on the same embedded data dir', async () => {
  const config = testConfig('embedded');
  const store = storeFor(config);
  await store.init();
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(
    process.execPath,
    ['-r', '@swc-node/register', '-e', `require('./core/embedded-db').openEmbeddedDatabase(${JSON.stringify(config.data_dir)}).then(() => process.exit(0), (e) => { console.error(e.code, e.message); process.exit(3); })`],
    { cwd: `${__dirname}/../..`, encoding: 'utf8' },
  );
  expect(child.status).toBe(3);
  expect(child.stderr).toMatch(/SB_STORE_UNAVAILABLE .*in use by process/);
  await store.close();
  removeDataDir(config);
});
