import type { IndexedDocument } from '../core/records';
import { MAX_PAGE_SIZE, type Bucket, type DocumentSummary, type Store } from '../store/types';

/**
 * A cluster's summaries computed here from its documents, fetched once, instead of one store
 * aggregation per document of the batch plus one for the totals (they took half of a batch's
 * time). The result must equal Store.summarizeDocuments for the same documents, whichever
 * backend (test/pipeline/summary.test.ts holds both to it): alerts built either way are the same.
 */

type Summarized = Pick<IndexedDocument, 'published_at' | 'source' | 'platform' | 'metrics'>;

/** Every document of one (topic, cluster), or undefined when there are too many to fetch in one page. */
export async function clusterDocuments(store: Store, topic: string, cluster: string): Promise<Summarized[] | undefined> {
  const page = await store.searchDocuments({ topic: [topic], cluster_id: [cluster], size: MAX_PAGE_SIZE });
  return page.total > page.items.length ? undefined : page.items;
}

/** What Store.summarizeDocuments returns for exactly these documents. */
export function summarize(docs: readonly Summarized[]): DocumentSummary {
  let first = Infinity;
  let last = -Infinity;
  let reposts = 0;
  let comments = 0;
  const hours = new Map<number, number>();
  const sources = new Map<string, number>();
  const platforms = new Map<string, number>();
  for (const d of docs) {
    const at = Date.parse(d.published_at);
    first = Math.min(first, at);
    last = Math.max(last, at);
    reposts += d.metrics?.reposts ?? 0;
    comments += d.metrics?.comments ?? 0;
    // Clock hours in UTC, as the stores bucket them.
    const hour = Math.floor(at / 3_600_000);
    hours.set(hour, (hours.get(hour) ?? 0) + 1);
    sources.set(d.source, (sources.get(d.source) ?? 0) + 1);
    platforms.set(d.platform, (platforms.get(d.platform) ?? 0) + 1);
  }
  return {
    count: docs.length,
    ...(docs.length > 0 ? { first_at: new Date(first).toISOString(), last_at: new Date(last).toISOString() } : {}),
    sources: topTerms(sources, 100),
    platforms: topTerms(platforms, 10),
    reposts,
    comments,
    peak_per_hour: Math.max(0, ...hours.values()),
  };
}

/** Most documents first, then by term in byte order (Elasticsearch's terms order, PostgreSQL's C collation). */
function topTerms(counts: Map<string, number>, size: number): Bucket[] {
  return [...counts]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
    .slice(0, size);
}
