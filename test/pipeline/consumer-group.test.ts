import { Partitioners } from 'kafkajs';
import { buildCorpus } from '../../bench/corpus';
import { createBus } from '../../bus';
import type { Bus } from '../../bus/types';
import { stableId, type Document } from '../../core/records';
import { threadCluster } from '../../pipeline/cluster';
import { minhash, similarity, trigrams } from '../../pipeline/minhash';
import { createStore } from '../../store';
import type { Store } from '../../store/types';
import { openDatabaseFor, removeDataDir, servicesSkipped, uniqueName } from '../support/backends';
import { checkAlertFigures, drained, metricValue, pipelineConfig, snapshot, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';

/**
 * Two pipeline processes in one consumer group share a 4-partition documents topic. Every
 * document is published at once, keyed by its own id, so the first copies of a story land on
 * different partitions and the two processes handle them at the same moment: the race that used
 * to split stories (docs/pipeline.md). They must still cluster as one process would, and make one
 * alert per (topic, cluster) with that cluster's figures.
 */

const PARTITIONS = 4;
const DOCUMENTS = 3_000;

function partitionOf(key: string): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

(servicesSkipped ? describe.skip : describe)('two pipeline processes in one consumer group (Kafka + search engine)', () => {
  const brokers = process.env.SHAOBING_TEST_KAFKA_BROKERS?.split(',');
  const esNode = process.env.SHAOBING_TEST_ES_URL;
  const name = uniqueName('group');
  const pair = pipelineConfig({ name, brokers, esNode, partitions: PARTITIONS });
  // One process reading the same documents in publication order from a topic of one partition.
  const single = pipelineConfig({ name: `${name}-single`, brokers, esNode, partitions: 1 });
  const story = new Map<string, string>();
  const corpus = buildCorpus({ size: DOCUMENTS, seed: 11 }, story);
  const buses: Bus[] = [];
  const stores: Store[] = [];
  const children: PipelineProcess[] = [];

  const open = (config: typeof pair) => {
    const bus = createBus(config.config, { openDatabase: openDatabaseFor(config.config) });
    const store = createStore(config.config, { openDatabase: openDatabaseFor(config.config) });
    buses.push(bus);
    stores.push(store);
    return { bus, store };
  };

  async function ready(child: PipelineProcess): Promise<void> {
    const url = await child.url;
    for (let i = 0; i < 600 && (await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  }

  async function run(config: typeof pair, processes: number): Promise<{ store: Store; handled: number[] }> {
    const { bus, store } = open(config);
    await bus.start();
    const mine = Array.from({ length: processes }, () => startPipelineProcess(config.file));
    children.push(...mine);
    await Promise.all(mine.map(ready));
    for (let i = 0; i < corpus.length; i += 1000) await bus.publish('documents', corpus.slice(i, i + 1000).map((d) => ({ key: d.id, value: d })));
    await drained(bus, config.config.pipeline.group, 240_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${mine.map((c) => c.log().slice(-3000)).join('\n')}`);
    });
    const handled = await Promise.all(mine.map(async (c) => metricValue(await c.metrics(), 'shaobing_pipeline_documents_total')));
    for (const child of mine) child.kill('SIGTERM');
    await Promise.all(mine.map((c) => c.exited));
    return { store, handled };
  }

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await Promise.all(buses.map((b) => b.stop()));
    await Promise.all(stores.map((s) => s.close()));
    removeDataDir(pair.config);
    removeDataDir(single.config);
  });

  it('split the partitions, cluster copies handled at the same moment together, and make one alert per topic and cluster', async () => {
    // The race is exercised: most stories have copies on several partitions.
    const spread = [...new Set(story.values())].filter((s) => new Set(corpus.filter((d) => story.get(d.id) === s).map((d) => partitionOf(d.id))).size >= 2);
    expect(spread.length).toBeGreaterThanOrEqual(50);

    const [two, one] = [await run(pair, 2), await run(single, 1)];
    expect(two.handled.every((n) => n > 0)).toBe(true);
    const ids = new Set(corpus.map((d) => d.id));
    expect(two.handled.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(ids.size);

    const [result, reference] = [await snapshot(two.store, corpus), await snapshot(one.store, corpus)];
    expect(result.documents).toHaveLength(ids.size);
    const clusterOf = new Map(result.documents.map((d) => [d.id, d.cluster_id]));

    // The race's signature: two near-duplicates that each started a cluster because neither saw
    // the other. Whatever order documents arrive in, the later of two near-duplicates finds the
    // earlier one stored and joins a cluster instead of starting one.
    const minSimilarity = pair.config.pipeline.cluster.min_similarity;
    const windowMs = pair.config.pipeline.cluster.window_hours * 3_600_000;
    const fingerprint = (d: Document) => minhash(trigrams(d.text || d.title));
    const racing = (clusters: Map<string, string | undefined>) => {
      const founders = corpus.flatMap((d) => {
        const f = fingerprint(d);
        return !d.parent_id && f && clusters.get(d.id) === stableId('cluster', d.id) ? [{ d, f, at: Date.parse(d.published_at) }] : [];
      });
      const pairs: string[] = [];
      founders.forEach((a, i) =>
        founders.slice(i + 1).forEach((b) => {
          if (Math.abs(a.at - b.at) <= windowMs && similarity(a.f, b.f) >= minSimilarity) pairs.push(`${a.d.id} and ${b.d.id}: ${similarity(a.f, b.f)}`);
        }),
      );
      return { founders: founders.length, pairs };
    };
    const referenceCluster = new Map(reference.documents.map((d) => [d.id, d.cluster_id]));
    const [twoRace, oneRace] = [racing(clusterOf), racing(referenceCluster)];
    expect(twoRace.founders).toBeGreaterThan(100);
    expect(twoRace.pairs).toEqual([]);
    expect(oneRace.pairs).toEqual([]);

    // Copies end in their original's cluster about as often as with one process reading in order.
    // Not exactly as often: the rule (join the earliest near-duplicate) depends on arrival order
    // where stories resemble each other (the corpus has daily 央视 posts alike to 0.84–0.94 with
    // other days' posts), and reposts handled before their parents make thread clusters.
    const byId = new Map(corpus.map((d) => [d.id, d]));
    const reposted = new Set(corpus.flatMap((d) => (d.parent_id ? [d.parent_id] : [])));
    const close = corpus.filter((d) => {
      const original = byId.get(story.get(d.id)!)!;
      const [a, b] = [fingerprint(d), fingerprint(original)];
      return d !== original && !d.parent_id && !reposted.has(d.id) && !reposted.has(original.id) && a && b && similarity(a, b) >= minSimilarity;
    });
    expect(close.length).toBeGreaterThanOrEqual(300);
    const apart = (clusters: Map<string, string | undefined>) => close.filter((d) => clusters.get(d.id) !== clusters.get(story.get(d.id)!)).length;
    console.info(`copies apart from their original: ${apart(clusterOf)} of ${close.length} (one process in order: ${apart(referenceCluster)}); ${twoRace.founders} clusters founded`);
    expect(apart(clusterOf)).toBeLessThanOrEqual(apart(referenceCluster) + Math.ceil(close.length * 0.01));

    // A repost joins its parent's cluster, or, when the parent had not been handled yet, the parent's thread.
    const strays = corpus.filter((d) => d.parent_id && clusterOf.get(d.id) !== clusterOf.get(d.parent_id) && clusterOf.get(d.id) !== threadCluster(d.parent_id));
    expect(strays.map((d) => d.id)).toEqual([]);

    // One alert per (topic, cluster) that any stored document matched, none for anything else.
    const pairs = new Set(result.documents.flatMap((d) => (d.topics ?? []).map((t) => `${t}/${d.cluster_id}`)));
    expect(pairs.size).toBeGreaterThanOrEqual(10);
    expect(result.alerts.map((a) => `${a.topic}/${a.cluster_id}`).sort()).toEqual([...pairs].sort());
    expect(await checkAlertFigures(two.store, result.alerts)).toEqual([]);
    expect(result.alerts.every((a) => a.history.filter((h) => h.action === 'opened').length === 1)).toBe(true);
  }, 600_000);
});
