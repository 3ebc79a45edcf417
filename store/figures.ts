import type { Bucket, DocumentFigures, DocumentSummary, FigureCounts } from './types';

/**
 * A DocumentSummary built from counts that add up: the store counts a cluster's older documents
 * (one aggregation), the pipeline adds the newest ones it fetched, and the result equals
 * Store.summarizeDocuments over all of them, whichever backend (test/pipeline/summary.test.ts).
 */

/** Hours are UTC clock hours, as both stores bucket them. */
const HOUR_MS = 3_600_000;

/** The counts of `docs`, added to `base` (counts of other documents). */
export function countFigures(docs: readonly DocumentFigures[], base?: FigureCounts): FigureCounts {
  let first = base?.first_at ? Date.parse(base.first_at) : Infinity;
  let last = base?.last_at ? Date.parse(base.last_at) : -Infinity;
  let reposts = base?.reposts ?? 0;
  let comments = base?.comments ?? 0;
  const tally = (buckets: Bucket[] | undefined) => new Map((buckets ?? []).map((b) => [b.key, b.count]));
  const sources = tally(base?.sources);
  const platforms = tally(base?.platforms);
  const hours = tally(base?.hours);
  for (const d of docs) {
    const at = Date.parse(d.published_at);
    first = Math.min(first, at);
    last = Math.max(last, at);
    reposts += d.metrics?.reposts ?? 0;
    comments += d.metrics?.comments ?? 0;
    const hour = new Date(Math.floor(at / HOUR_MS) * HOUR_MS).toISOString();
    hours.set(hour, (hours.get(hour) ?? 0) + 1);
    sources.set(d.source, (sources.get(d.source) ?? 0) + 1);
    platforms.set(d.platform, (platforms.get(d.platform) ?? 0) + 1);
  }
  const count = (base?.count ?? 0) + docs.length;
  const buckets = (counts: Map<string, number>) => [...counts].map(([key, n]) => ({ key, count: n }));
  return {
    count,
    ...(count > 0 ? { first_at: new Date(first).toISOString(), last_at: new Date(last).toISOString() } : {}),
    reposts,
    comments,
    sources: buckets(sources),
    platforms: buckets(platforms),
    hours: buckets(hours),
  };
}

/** What Store.summarizeDocuments returns for the documents counted. */
export function summaryOf(counts: FigureCounts): DocumentSummary {
  return {
    count: counts.count,
    ...(counts.count > 0 ? { first_at: counts.first_at!, last_at: counts.last_at! } : {}),
    sources: topTerms(counts.sources, 100),
    platforms: topTerms(counts.platforms, 10),
    reposts: counts.reposts,
    comments: counts.comments,
    peak_per_hour: Math.max(0, ...counts.hours.map((b) => b.count)),
  };
}

/** Most documents first, then by term in byte order (Elasticsearch's terms order, PostgreSQL's C collation). */
function topTerms(counts: readonly Bucket[], size: number): Bucket[] {
  return [...counts].sort((a, b) => b.count - a.count || Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))).slice(0, size);
}
