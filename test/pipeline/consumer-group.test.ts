import { Partitioners } from 'kafkajs';
import { buildCorpus } from '../../bench/corpus';
import { createBus } from '../../bus';
import type { Bus } from '../../bus/types';
import type { Document } from '../../core/records';
import { threadCluster } from '../../pipeline/cluster';
import { minhash, similarity, trigrams } from '../../pipeline/minhash';
import { createStore } from '../../store';
import type { Store } from '../../store/types';
import { openDatabaseFor, removeDataDir, servicesSkipped } from '../support/backends';
import { checkAlertFigures, drained, metricValue, pipelineConfig, snapshot, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';

/**
 * Two pipeline processes in one consumer group share a 4-partition documents topic. Copies of
 * each story are keyed by their own ids, so they land on different partitions and are handled
 * by both processes at once: still one alert per (topic, cluster), with the cluster's figures,
 * and copies join their original's cluster.
 */

const PARTITIONS = 4;

function partitionOf(key: string): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

(servicesSkipped ? describe.skip : describe)('two pipeline processes in one consumer group (Kafka + search engine)', () => {
  const { config, file } = pipelineConfig({ brokers: process.env.SHAOBING_TEST_KAFKA_BROKERS?.split(','), esNode: process.env.SHAOBING_TEST_ES_URL, partitions: PARTITIONS });
  let bus: Bus;
  let store: Store;
  const children: PipelineProcess[] = [];

  beforeAll(async () => {
    bus = createBus(config, { openDatabase: openDatabaseFor(config) });
    store = createStore(config, { openDatabase: openDatabaseFor(config) });
    await bus.start();
    children.push(startPipelineProcess(file), startPipelineProcess(file));
    for (const child of children) {
      const url = await child.url;
      for (let i = 0; i < 300 && (await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    await bus?.stop();
    await store?.close();
    removeDataDir(config);
  });

  it('split the partitions and still make one alert per topic and cluster, copies in their original’s cluster', async () => {
    // 30 stories that match a topic, with all their copies and reposts.
    const story = new Map<string, string>();
    const corpus = buildCorpus({ size: 5_000, seed: 11 }, story);
    const originals = corpus.filter((d) => story.get(d.id) === d.id && /疫情|确诊|肺炎|两会/.test(d.text)).slice(0, 30);
    const chosen = new Set(originals.map((d) => d.id));
    const members = corpus.filter((d) => chosen.has(story.get(d.id)!) && !chosen.has(d.id));
    // Copies of one story are spread over partitions, not kept on one.
    const spread = originals.filter((o) => new Set(members.filter((m) => story.get(m.id) === o.id).map((m) => partitionOf(m.id))).size >= 2);
    expect(spread.length).toBeGreaterThanOrEqual(20);

    // The originals first, then everything else at once, as a burst of coverage would come.
    await bus.publish('documents', originals.map((d) => ({ key: d.id, value: d })));
    await drained(bus, config.pipeline.group, 60_000);
    await store.refresh();
    await bus.publish('documents', members.map((d) => ({ key: d.id, value: d })));
    await drained(bus, config.pipeline.group, 120_000);

    const all = [...originals, ...members];
    const result = await snapshot(store, all);
    expect(result.documents).toHaveLength(new Set(all.map((d) => d.id)).size);
    const clusterOf = new Map(result.documents.map((d) => [d.id, d.cluster_id]));

    // A copy as similar to its original as the pipeline requires joins the original's cluster,
    // whichever process handled it. Not asserted for copies that were themselves reposted: a
    // repost handled by the other process before its parent puts the parent into the repost
    // thread's cluster instead (a known limitation of the thread rule with several partitions).
    const fingerprint = (d: Document) => minhash(trigrams(d.text || d.title))!;
    const byId = new Map(all.map((d) => [d.id, d]));
    const reposted = new Set(members.flatMap((d) => (d.parent_id ? [d.parent_id] : [])));
    const close = members.filter(
      (d) => !d.parent_id && !reposted.has(d.id) && similarity(fingerprint(d), fingerprint(byId.get(story.get(d.id)!)!)) >= config.pipeline.cluster.min_similarity,
    );
    expect(close.length).toBeGreaterThanOrEqual(50);
    // The thread clusters such races make are themselves candidates for later copies, so a few
    // may follow them: at most 5 %. (Without the race, one cluster per story: 347 for 350 stories
    // in the single-partition replay of crash-replay.test.ts.)
    const apart = close.filter((d) => clusterOf.get(d.id) !== clusterOf.get(story.get(d.id)!));
    expect(apart.length).toBeLessThanOrEqual(Math.floor(close.length * 0.05));
    // A repost joins its parent's cluster, or, when the parent had not been handled yet, the
    // parent's thread.
    const strays = members.filter((d) => d.parent_id && clusterOf.get(d.id) !== clusterOf.get(d.parent_id) && clusterOf.get(d.id) !== threadCluster(d.parent_id));
    expect(strays.map((d) => d.id)).toEqual([]);

    // One alert per (topic, cluster) that any stored document matched, none for anything else.
    const pairs = new Set(result.documents.flatMap((d) => (d.topics ?? []).map((t) => `${t}/${d.cluster_id}`)));
    expect(pairs.size).toBeGreaterThanOrEqual(10);
    expect(result.alerts.map((a) => `${a.topic}/${a.cluster_id}`).sort()).toEqual([...pairs].sort());
    expect(await checkAlertFigures(store, result.alerts)).toEqual([]);
    expect(result.alerts.every((a) => a.history[0]?.action === 'opened' && a.history.filter((h) => h.action === 'opened').length === 1)).toBe(true);

    // Both processes did part of the work.
    const handled = await Promise.all(children.map(async (c) => metricValue(await c.metrics(), 'shaobing_pipeline_documents_total')));
    expect(handled.every((n) => n > 0)).toBe(true);
    expect(handled.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(new Set(all.map((d) => d.id)).size);
  }, 240_000);
});
