import { buildCorpus } from '../../bench/corpus';
import { stableId, type IndexedDocument } from '../../core/records';
import { clusterFigures, summarize } from '../../pipeline/summary';
import type { Store } from '../../store/types';
import { backendKinds, removeDataDir, storeFor, testConfig } from '../support/backends';

/**
 * The pipeline summarises a small cluster itself from its fetched documents; that must give
 * exactly what each store's own summary gives, or alerts would depend on the cluster's size.
 */
describe.each(backendKinds)('cluster summaries computed by the pipeline (%s)', (kind) => {
  const config = testConfig(kind);
  let store: Store;
  // Real posts with copies and reposts: several sources and platforms, equal counts (ties), hours.
  const docs: IndexedDocument[] = buildCorpus({ size: 400, seed: 5 }).map((d, i) => ({
    ...d,
    topics: ['t'],
    cluster_id: `c${i % 3}`,
    ...(i % 7 === 0 ? { metrics: undefined } : {}),
    ...(i % 11 === 0 ? { source: `来源${i % 4}`, published_at: d.published_at.replace('Z', '+00:00') } : {}),
  }));
  const big = Array.from({ length: 1_001 }, (_, i) => ({ ...docs[i % docs.length]!, id: stableId('big', String(i)), cluster_id: 'big' }));

  beforeAll(async () => {
    store = storeFor(config);
    await store.init();
    await store.putDocuments([...docs, ...big]);
    await store.refresh();
  });

  afterAll(async () => {
    await store.close();
    removeDataDir(config);
  });

  it('equals the store’s summary of the whole cluster and of the cluster up to each time, wherever it is split', async () => {
    for (const cluster of ['c0', 'c1', 'c2']) {
      const times = docs.filter((d) => d.cluster_id === cluster).map((d) => Date.parse(d.published_at)).sort((a, b) => a - b);
      // Split before everything, in the middle, and after the last document (all counted by the store).
      for (const split of [times[0]!, times[Math.floor(times.length / 2)]!, times[times.length - 1]! + 1]) {
        const since = new Date(split).toISOString();
        const [figures] = await clusterFigures(store, [{ topic: { id: 't' }, cluster_id: cluster, since }]);
        expect(figures!.before.count + figures!.since.length).toBe(times.length);
        expect(summarize(figures!)).toEqual(await store.summarizeDocuments({ topic: ['t'], cluster_id: [cluster] }));
        for (const cut of times.filter((t) => t >= split).slice(0, 20)) {
          expect(summarize(figures!, cut)).toEqual(await store.summarizeDocuments({ topic: ['t'], cluster_id: [cluster], time: { to: new Date(cut + 1).toISOString() } }));
        }
      }
    }
    const [none] = await clusterFigures(store, [{ topic: { id: 'none' }, cluster_id: 'c0', since: docs[0]!.published_at }]);
    expect(summarize(none!)).toEqual(await store.summarizeDocuments({ topic: ['none'] }));
  });

  it('leaves a cluster with more than a page of documents since the split to the store', async () => {
    const first = new Date(Math.min(...big.map((d) => Date.parse(d.published_at)))).toISOString();
    const after = new Date(Math.max(...big.map((d) => Date.parse(d.published_at))) + 1).toISOString();
    const split = await clusterFigures(store, [
      { topic: { id: 't' }, cluster_id: 'big', since: first },
      { topic: { id: 't' }, cluster_id: 'big', since: after },
    ]);
    expect(split[0]).toBeUndefined();
    expect(summarize(split[1]!)).toEqual(await store.summarizeDocuments({ topic: ['t'], cluster_id: ['big'] }));
  });
});
