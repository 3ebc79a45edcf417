import { buildCorpus } from '../../bench/corpus';
import { stableId, type IndexedDocument } from '../../core/records';
import { clusterDocuments, summarize } from '../../pipeline/summary';
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

  it('equals the store’s summary of the whole cluster and of the cluster up to each time', async () => {
    for (const cluster of ['c0', 'c1', 'c2']) {
      const members = await clusterDocuments(store, 't', cluster);
      expect(members).toHaveLength(docs.filter((d) => d.cluster_id === cluster).length);
      expect(summarize(members!)).toEqual(await store.summarizeDocuments({ topic: ['t'], cluster_id: [cluster] }));
      for (const cut of members!.slice(0, 40).map((d) => d.published_at)) {
        const upTo = members!.filter((d) => Date.parse(d.published_at) <= Date.parse(cut));
        expect(summarize(upTo)).toEqual(await store.summarizeDocuments({ topic: ['t'], cluster_id: [cluster], time: { to: new Date(Date.parse(cut) + 1).toISOString() } }));
      }
    }
    expect(summarize([])).toEqual(await store.summarizeDocuments({ topic: ['none'] }));
  });

  it('leaves a cluster larger than one page to the store', async () => {
    expect(await clusterDocuments(store, 't', 'big')).toBeUndefined();
  });
});
