import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus, BusMessage } from '../../bus/types';
import type { Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import { AlertEvent, stableId, type Document } from '../../core/records';
import type { Role } from '../../daemon/roles';
import { DEAD_LETTER_HEADERS } from '../../pipeline/handler';
import { createPipelineRole } from '../../pipeline/role';
import type { Store } from '../../store/types';
import { backendKinds, busFor, eventually, removeDataDir, storeFor, testConfig, uniqueName } from '../support/backends';

/**
 * The story is real: a 2020 央视新闻 Weibo post about a chemical plant fire (MineSelf2016/SummerResearch,
 * MIT), as three outlets carried it with small edits, plus a repost and an unrelated post.
 */
const STORY =
  '今天上午，江苏某化工园区一化工厂发生火灾，现场浓烟滚滚，消防救援人员正在全力扑救，周边群众已紧急疏散，具体原因正在调查中。';
const COPIES = [STORY, STORY.replace('今天上午', '今日上午'), STORY.replace('现场浓烟滚滚，', '现场浓烟滚滚！')];
const UNRELATED = '国务院新闻办公室今天举行新闻发布会，介绍今年以来防汛抗旱工作情况。';

function document(key: string, fields: Partial<Document>): Document {
  return {
    id: stableId('pipeline-test', key),
    platform: 'news',
    source: '新华网',
    url: `https://news.example.cn/${key}.html`,
    title: '化工厂发生火灾',
    text: STORY,
    published_at: '2026-06-01T10:00:00+08:00',
    fetched_at: '2026-06-01T10:05:00+08:00',
    ...fields,
  };
}

function withRules(config: Config): Config {
  const file = join(config.data_dir, 'topics.yaml');
  writeFileSync(
    file,
    ['topics:', '  - id: chem-fire', '    name: 化工火灾', '    subject: [化工厂, 化工园区]', '    event: [火灾, 爆炸]', '    alert_on: any', '    level: 3', ''].join('\n'),
  );
  // Only spread raises the level here, so the test controls when it escalates.
  const level_policy = {
    ...config.rules.level_policy,
    negativity: { at: -1, steps: 0 },
    severity: [],
    tiers: { central: 0, provincial: 0, local: 0, verified: 0, ordinary: 0 },
    spread: { cluster_size: [{ at: 6, steps: 1 }], reposts: [], comments: [], growth_per_hour: [] },
  };
  return {
    ...config,
    rules: { ...config.rules, paths: [file], watch: false, level_policy },
    pipeline: { ...config.pipeline, max_message_bytes: 512 * 1024 },
  };
}

describe.each(backendKinds)('pipeline role (%s)', (kind) => {
  const config = withRules(testConfig(kind, { partitions: 1 }));
  let bus: Bus;
  let store: Store;
  let role: Role;
  const events: AlertEvent[] = [];
  const deadLetters: BusMessage[] = [];

  const drained = () => eventually(() => bus.lag(config.pipeline.group, 'documents'), (lag) => lag.every((p) => p.lag === 0), 60_000);

  beforeAll(async () => {
    bus = busFor(config);
    store = storeFor(config);
    await Promise.all([bus.start(), store.init()]);
    role = createPipelineRole({ config, bus, store, log: silentLogger, metrics: createMetricsRegistry({ processMetrics: false }) });
    await role.start();
    await bus.subscribe({ group: uniqueName('events'), topic: 'alert_events', handler: async (batch) => void events.push(...batch.map((m) => AlertEvent.parse(JSON.parse(m.value.toString('utf8'))))) });
    await bus.subscribe({ group: uniqueName('dead'), topic: 'dead_letters', handler: async (batch) => void deadLetters.push(...batch) });
  });

  afterAll(async () => {
    await role.stop();
    await bus.stop();
    await store.close();
    removeDataDir(config);
  });

  const original = document('copy-0', { text: COPIES[0]!, source: '新华网' });
  const copies = [original, document('copy-1', { text: COPIES[1]!, source: '人民网', published_at: '2026-06-01T10:20:00+08:00' }),
    document('copy-2', { text: COPIES[2]!, source: '澎湃新闻', published_at: '2026-06-01T10:40:00+08:00' })];
  const repost = document('repost', { platform: 'weibo', source: '某网友', title: '', text: '转发微博', parent_id: original.id, published_at: '2026-06-01T11:00:00+08:00' });
  const unrelated = document('unrelated', { title: '防汛抗旱新闻发布会', text: UNRELATED });

  it('clusters copies and reposts, opens one alert, stores everything, dead-letters the malformed', async () => {
    const hostile = [
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from(JSON.stringify({ id: 'not-hex', title: 'x' })),
      Buffer.from(JSON.stringify(document('huge', { text: '长'.repeat(200 * 1024) }))),
    ];
    await bus.publish('documents', [
      ...copies.map((d) => ({ key: d.id, value: d })),
      { key: repost.id, value: repost },
      ...hostile.map((value, i) => ({ key: `hostile-${i}`, value })),
      { key: unrelated.id, value: unrelated },
    ]);
    await drained();
    await store.refresh();

    const stored = await store.searchDocuments({ size: 100 });
    expect(stored.total).toBe(5);
    const byId = new Map(stored.items.map((d) => [d.id, d]));
    const cluster = byId.get(original.id)!.cluster_id;
    expect(copies.map((d) => byId.get(d.id)!.cluster_id)).toEqual([cluster, cluster, cluster]);
    expect(byId.get(repost.id)!.cluster_id).toBe(cluster);
    expect(byId.get(unrelated.id)!.cluster_id).not.toBe(cluster);
    expect(byId.get(original.id)!.topics).toEqual(['chem-fire']);
    expect(byId.get(unrelated.id)!.topics).toEqual([]);
    expect(byId.get(original.id)!.tokens).toMatch(/化工厂 .*火灾/);

    const alerts = await store.searchAlerts({ topic: ['chem-fire'] });
    expect(alerts.total).toBe(1);
    const alert = alerts.items[0]!.value;
    expect(alert).toMatchObject({ cluster_id: cluster, status: 'open', level: 3, doc_count: 3, title: '化工厂发生火灾', opened_at: original.published_at });
    expect(alert.sources.sort()).toEqual(['人民网', '新华网', '澎湃新闻'].sort());
    expect(alert.outbox).toEqual([]);

    await eventually(() => events.length, (n) => n >= 1);
    expect(events).toEqual([expect.objectContaining({ id: `${alert.id}:opened`, type: 'opened', level: 3, alert_id: alert.id })]);

    await eventually(() => deadLetters.length, (n) => n >= 3);
    const reasons = deadLetters.map((m) => m.headers[DEAD_LETTER_HEADERS.reason]);
    expect(reasons).toEqual([
      'not valid UTF-8',
      expect.stringMatching(/^not a Document: id: a lower-case hex digest/),
      expect.stringMatching(/^message of \d+ bytes exceeds the 524288-byte limit$/),
    ]);
    expect(deadLetters[0]!.value.equals(hostile[0]!)).toBe(true);
    expect(deadLetters[0]!.headers[DEAD_LETTER_HEADERS.origin]).toMatch(/^documents\/0\/\d+$/);
  });

  it('escalates the same alert as the story spreads, and a redelivered document changes nothing', async () => {
    const more = Array.from({ length: 3 }, (_, i) =>
      document(`more-${i}`, { text: COPIES[i % 3]!, source: `地方媒体${i}`, published_at: `2026-06-01T12:0${i}:00+08:00` }),
    );
    // The first copy again (a collector re-emitting it) is the same document, not a new one.
    await bus.publish('documents', [...more, original].map((d) => ({ key: d.id, value: d })));
    await drained();
    await store.refresh();

    const alerts = await store.searchAlerts({ topic: ['chem-fire'] });
    expect(alerts.total).toBe(1);
    const alert = alerts.items[0]!.value;
    expect(alert).toMatchObject({ level: 2, doc_count: 6 });
    expect(alert.history.map((h) => h.action)).toEqual(['opened', 'escalated']);
    expect(alert.history[1]).toMatchObject({ from_level: 3, to_level: 2, at: '2026-06-01T04:02:00.000Z' });
    await eventually(() => events.length, (n) => n >= 2);
    expect(events.map((e) => e.id)).toEqual([`${alert.id}:opened`, `${alert.id}:escalated:2`]);
    expect((await store.searchDocuments({ size: 100 })).total).toBe(8);
  });
});
