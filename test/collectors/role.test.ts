import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { BusMessage } from '../../bus/types';
import { CollectorsSchema, SourcesSchema } from '../../collectors/config';
import { createCollectorRole } from '../../collectors/role';
import { SourceState, StateStore } from '../../collectors/state';
import type { Config } from '../../core/config';
import { Document, type OperatorNotice } from '../../core/records';
import type { Store } from '../../store/types';
import { fixture } from '../fixtures/collectors/server';
import { backendKinds, busFor, eventually, removeDataDir, testConfig, uniqueName } from '../support/backends';
import { collectorConfig, FAST_HTTP, harness, testLog, useFixtureServer } from './helpers';

const fixtures = useFixtureServer();

const now = new Date('2020-03-07T09:00:00+08:00');

describe('state across restarts', () => {
  it('a restart neither re-emits nor misses: only the item added meanwhile comes out', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-state-'));
    const sources = [{ type: 'rss' as const, name: '丁香园辟谣', url: fixtures().url('/rss/atom.xml'), full_article: 'never' as const }];
    const first = harness(collectorConfig(sources, {}, dataDir), { now, persistState: true });
    await first.collection.runOnce();
    await first.collection.stop();
    expect(first.documents).toHaveLength(2);

    // A new process: same data_dir, and the feed gained an entry.
    const atom = fixture('rss/atom.xml').replaceAll('{{BASE}}', fixtures().base);
    fixtures().override('/rss/atom.xml', (_q, res) => {
      const extra = `<entry><title>新冠病毒会通过空调传播？</title><link href="${fixtures().base}/rumors/200" rel="alternate"/><id>tag:dxy.cn,2020:rumor-200</id><updated>2020-03-07T08:00:00+08:00</updated><content type="html">目前没有证据表明新冠病毒会通过空调系统传播，但应注意室内通风。</content></entry>`;
      res.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' });
      res.end(atom.replace('</feed>', `${extra}</feed>`));
    });
    const second = harness(collectorConfig(sources, {}, dataDir), { now, persistState: true });
    const [report] = await second.collection.runOnce();
    await second.collection.stop();
    expect(report!.documents).toBe(1);
    expect(second.documents.map((d) => d.title)).toEqual(['新冠病毒会通过空调传播？']);

    const saved = JSON.parse(readFileSync(join(dataDir, 'collectors', `${encodeURIComponent('丁香园辟谣')}.json`), 'utf8')) as { seen: string[] };
    expect(saved.seen).toHaveLength(3);
  });

  it('a corrupt state file starts empty instead of crashing; the seen-set is bounded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shaobing-state-'));
    const store = new StateStore({ dir, seenCapacity: 3 });
    writeFileSync(store.fileOf('x'), '{"version":1,"sou');
    const state = store.load('x');
    expect(state.seenCount).toBe(0);
    for (const id of ['a', 'b', 'c', 'd']) state.markSeen(id);
    expect([state.hasSeen('a'), state.hasSeen('d'), state.seenCount]).toEqual([false, true, 3]);
    store.save(state);
    expect(new StateStore({ dir, seenCapacity: 3 }).load('x').hasSeen('b')).toBe(true);
    expect(new SourceState('mem', 10).dirty).toBe(false);
  });
});

describe('source health', () => {
  it('alerts operators after N failed rounds, says so on readiness and in metrics, and announces the recovery', async () => {
    const notices: OperatorNotice[] = [];
    const h = harness(collectorConfig([{ type: 'rss', name: '新华网', url: fixtures().url('/rss/feed-gbk.xml'), full_article: 'never' }], { alert_after_failures: 2 }), { now });
    fixtures().override('/rss/feed-gbk.xml', (_q, res) => {
      res.writeHead(404);
      res.end();
    });
    await h.collection.runOnce();
    expect(h.notices).toHaveLength(0);
    await h.collection.runOnce();
    notices.push(...h.notices);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'source_failing', source: '新华网', platform: 'rss', error_streak: 2, error_code: 'SB_COLLECT_HTTP_STATUS', component: 'collector' });
    expect(notices[0]!.message).toMatch(/^feed 新华网 failing since .* \(2 failed rounds\): SB_COLLECT_HTTP_STATUS: HTTP 404/);

    const summary = h.collection.health.summary();
    // Still ready (a feed down outside is no reason to take the daemon out of rotation), and says why not healthy.
    expect(summary.ready).toBe(true);
    expect(summary.detail).toMatch(/0 of 1 sources healthy; feed 新华网 failing since/);
    const metrics = await h.metrics.metrics();
    expect(metrics).toMatch(/shaobing_collector_error_streak\{source="新华网",platform="rss"\} 2/);
    expect(metrics).toMatch(/shaobing_collector_runs_total\{source="新华网",platform="rss",outcome="failed"\} 2/);

    fixtures().reset();
    await h.collection.runOnce();
    await h.collection.stop();
    expect(h.notices.map((n) => n.kind)).toEqual(['source_failing', 'source_recovered']);
    expect(h.collection.health.get('新华网')).toMatchObject({ status: 'ok', error_streak: 0, last_run_documents: 3, total_documents: 3 });
    expect(await h.metrics.metrics()).toMatch(/shaobing_collector_documents_total\{source="新华网",platform="rss"\} 3/);
  });

  it('an unreachable host says so plainly', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: '人民网', url: 'http://127.0.0.1:9/rss/politics.xml' }], { alert_after_failures: 1, http: { max_attempts: 1 } }), { now });
    await h.collection.runOnce();
    await h.collection.stop();
    expect(h.collection.health.summary().detail).toMatch(/feed 人民网 failing since .*SB_COLLECT_FETCH_FAILED ECONNREFUSED/);
  });
});

describe.each(backendKinds)('collector role → bus (%s)', (kind) => {
  let config: Config;
  beforeAll(() => {
    const base = testConfig(kind);
    config = {
      ...base,
      sources: SourcesSchema.parse([
        { type: 'rss', name: '武汉卫健委', url: fixtures().url('/rss/feed-gbk.xml'), full_article: 'never', interval_seconds: 3600 },
        { type: 'weibo', name: '微博', keywords: ['央视新闻'], api_base: fixtures().base, passport_base: fixtures().base, interval_seconds: 3600 },
      ]),
      collectors: CollectorsSchema.parse({ jitter_ratio: 0, http: FAST_HTTP }),
    };
  });
  afterAll(() => removeDataDir(config));

  it('publishes valid documents keyed by id to the documents topic, and reports health', async () => {
    const bus = busFor(config);
    await bus.start();
    const seen: BusMessage[] = [];
    const sub = await bus.subscribe({ group: uniqueName('collector-test'), topic: 'documents', handler: async (batch) => void seen.push(...batch) });
    const role = createCollectorRole({ config, bus, store: {} as Store, log: testLog, metrics: new Registry() });
    expect(role.health()).toMatchObject({ ready: false });
    await role.start();
    // 3 feed items + 6 Weibo posts (an original of a repost included).
    await eventually(() => seen.length, (n) => n >= 9, 30_000);
    await role.stop();
    await role.stop();
    await sub.stop();
    await bus.stop();

    expect(seen).toHaveLength(9);
    for (const m of seen) {
      const doc = Document.parse(JSON.parse(m.value.toString('utf8')));
      expect(m.key).toBe(doc.id);
    }
    expect(new Set(seen.map((m) => m.key)).size).toBe(9);
    expect(role.health()).toEqual({ ready: true, detail: '2 of 2 sources healthy' });
  });
});
