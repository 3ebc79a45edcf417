import { countFigures, summaryOf } from '../store/figures';
import type { DocumentFigures, DocumentSummary, FigureCounts, Store } from '../store/types';

/**
 * A cluster's summaries computed here, instead of one store aggregation per document of the
 * batch plus one for the totals (they took half of a batch's time): the store counts the
 * cluster's documents older than the batch's (one aggregation, however large the cluster) and
 * lists the newer ones, which the pipeline adds at each candidate's time. The result must equal
 * Store.summarizeDocuments for the same documents, whichever backend (test/pipeline/summary.test.ts
 * holds both to it): alerts built either way are the same.
 */

export interface ClusterFigures {
  before: FigureCounts;
  since: DocumentFigures[];
}

/**
 * Each (topic, cluster) split at `since`, or undefined for one that cannot be summed here (too
 * many documents since, or too many sources to count at once): the store summarises those.
 */
export async function clusterFigures(store: Store, clusters: ReadonlyArray<{ topic: { id: string }; cluster_id: string; since: string }>): Promise<Array<ClusterFigures | undefined>> {
  const split = await store.splitDocumentFigures(clusters.map((c) => ({ query: { topic: [c.topic.id], cluster_id: [c.cluster_id] }, since: c.since })));
  return split.map(({ before, since }) => (!before || since.total > since.items.length ? undefined : { before, since: since.items }));
}

/** What Store.summarizeDocuments returns for the cluster's documents published up to `upTo` (all without it). */
export function summarize(cluster: ClusterFigures, upTo?: number): DocumentSummary {
  const docs = upTo === undefined ? cluster.since : cluster.since.filter((d) => Date.parse(d.published_at) <= upTo);
  return summaryOf(countFigures(docs, cluster.before));
}
