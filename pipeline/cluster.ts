import { stableId, type IndexedDocument } from '../core/records';
import type { BandMember, Store } from '../store/types';
import type { Analysis } from './analyze';
import { similarity } from './minhash';

/**
 * Assigns each document of a batch to an event cluster:
 * - a document stored before keeps its cluster (redelivery changes nothing);
 * - a repost joins its original's cluster, or, while the original is unseen, the thread of that
 *   original, which the original itself joins when it arrives;
 * - otherwise it joins the cluster of the earliest near-duplicate (estimated Jaccard similarity of
 *   character trigrams at least `minSimilarity`) published within the window; else it starts a
 *   cluster of its own.
 * Lookups are batched: a few store queries per batch, not per document.
 */

export interface ClusterOptions {
  /** Near-duplicates further apart in time than this are different events; default 72. */
  windowHours?: number;
  /** Least estimated similarity of two copies of one story; default 0.6 (measured copies: 0.76–0.93). */
  minSimilarity?: number;
}

/** The fields clustering needs of a document, stored or in hand. */
export interface Member {
  id: string;
  cluster_id: string;
  published_at: string;
  fingerprint?: string;
  parent_id?: string;
}

/**
 * This process's recent assignments, newest kept: documents it stored a moment ago may not be
 * searchable yet (Elasticsearch refreshes about once a second), and a batch's earlier documents
 * are not stored at all when its later ones are clustered.
 */
export class RecentMembers {
  readonly #byId = new Map<string, Member>();
  readonly #byBand = new Map<string, Set<string>>();
  readonly #byParent = new Map<string, string>();
  /** Latest publication time (ms) of a document decided where this cache did not see it, or evicted from it. */
  #unseenUpTo = -Infinity;

  constructor(private readonly maxEntries = 100_000) {}

  /** Documents published up to `publishedAtMs` may have been decided without this cache seeing them. */
  unseenUpTo(publishedAtMs: number): void {
    this.#unseenUpTo = Math.max(this.#unseenUpTo, publishedAtMs);
  }

  /** Whether every document within the window of `publishedAtMs` that was ever decided is here. */
  covers(publishedAtMs: number, windowMs: number): boolean {
    return publishedAtMs - windowMs > this.#unseenUpTo;
  }

  add(member: Member, bands: readonly string[] = []): void {
    this.#byId.delete(member.id);
    this.#byId.set(member.id, member);
    for (const band of bands) {
      let ids = this.#byBand.get(band);
      if (!ids) this.#byBand.set(band, (ids = new Set()));
      ids.add(member.id);
    }
    if (member.parent_id) this.#byParent.set(member.parent_id, member.id);
    while (this.#byId.size > this.maxEntries) {
      const oldest = this.#byId.keys().next().value as string;
      this.unseenUpTo(Date.parse(this.#byId.get(oldest)!.published_at));
      this.#byId.delete(oldest);
    }
  }

  get(id: string): Member | undefined {
    return this.#byId.get(id);
  }

  withBands(bands: readonly string[]): Member[] {
    const ids = new Set(bands.flatMap((b) => [...(this.#byBand.get(b) ?? [])]));
    return [...ids].flatMap((id) => this.#byId.get(id) ?? []);
  }

  /** A repost of `id` seen here, if any. */
  childOf(id: string): Member | undefined {
    const child = this.#byParent.get(id);
    return child === undefined ? undefined : this.#byId.get(child);
  }
}

export function threadCluster(rootId: string): string {
  return stableId('thread', rootId);
}

export interface Assignment {
  /** The cluster of each document of the batch, by index. */
  clusters: string[];
  /**
   * Remembers the decisions in `recent`; called once the documents are stored, so that a batch
   * retried after a failure (a lost clustering lease) decides again from what is stored.
   */
  commit(except?: ReadonlySet<string>): void;
}

export async function assignClusters(batch: readonly Analysis[], store: Store, recent: RecentMembers, options: ClusterOptions = {}): Promise<Assignment> {
  const windowMs = (options.windowHours ?? 72) * 3_600_000;
  const minSimilarity = options.minSimilarity ?? 0.6;
  const local = new RecentMembers();
  const decided: Array<{ member: Member; bands?: string[] }> = [];
  const commit = (except: ReadonlySet<string> = new Set()) => {
    for (const { member, bands } of decided) if (!except.has(member.id)) recent.add(member, bands);
  };
  // A batch of nothing but dead letters: no time range to look in (it used to throw RangeError,
  // a non-retriable error that stopped the pipeline for good).
  if (batch.length === 0) return { clusters: [], commit };
  const stored = await lookups(batch, store, windowMs, recent);
  // The batch's own earlier decisions first, then this process's recent ones.
  const seen = {
    get: (id: string) => local.get(id) ?? recent.get(id),
    childOf: (id: string) => local.childOf(id) ?? recent.childOf(id),
    withBands: (bands: readonly string[]) => [...local.withBands(bands), ...recent.withBands(bands)],
  };

  const clusters = batch.map((a, index) => {
    const { doc } = a;
    const known = stored.byId.get(doc.id) ?? seen.get(doc.id);
    const assign = (cluster: string) => {
      const member: Member = { id: doc.id, cluster_id: cluster, published_at: doc.published_at, ...(a.fingerprint ? { fingerprint: a.fingerprint } : {}), ...(doc.parent_id ? { parent_id: doc.parent_id } : {}) };
      local.add(member, a.bands);
      decided.push({ member, ...(a.bands ? { bands: a.bands } : {}) });
      return cluster;
    };
    if (known) return assign(known.cluster_id);

    if (doc.parent_id) {
      const parent = seen.get(doc.parent_id) ?? stored.byId.get(doc.parent_id);
      return assign(parent?.cluster_id ?? threadCluster(doc.parent_id));
    }
    const thread = threadCluster(doc.id);
    if (seen.childOf(doc.id) || stored.threads.has(thread)) return assign(thread);

    if (a.fingerprint && a.bands) {
      const at = Date.parse(doc.published_at);
      const near = [...seen.withBands(a.bands), ...stored.byDoc[index]!]
        .filter((m) => m.id !== doc.id && m.fingerprint && Math.abs(Date.parse(m.published_at) - at) <= windowMs)
        .filter((m) => similarity(m.fingerprint!, a.fingerprint!) >= minSimilarity)
        .sort((x, y) => Date.parse(x.published_at) - Date.parse(y.published_at) || (x.id < y.id ? -1 : 1));
      if (near[0]) return assign(near[0].cluster_id);
    }
    return assign(stableId('cluster', doc.id));
  });
  return { clusters, commit };
}

interface StoredLookups {
  byId: Map<string, Member>;
  /** For each document of the batch (by index): the stored documents sharing the most bands with it. */
  byDoc: Member[][];
  /** Thread clusters that already have members in the store. */
  threads: Set<string>;
}

/**
 * Per document, the stored documents sharing the most bands with it. Copies of one story share
 * many; posts that only share a boilerplate phrase (「央视新闻的微博视频」) share one or two.
 */
const CANDIDATES_PER_DOCUMENT = 20;

async function lookups(batch: readonly Analysis[], store: Store, windowMs: number, recent: RecentMembers): Promise<StoredLookups> {
  const ids = [...new Set(batch.flatMap((a) => [a.doc.id, ...(a.doc.parent_id ? [a.doc.parent_id] : [])]))];
  const times = batch.map((a) => Date.parse(a.doc.published_at));
  const time = { from: new Date(Math.min(...times) - windowMs).toISOString(), to: new Date(Math.max(...times) + windowMs + 1).toISOString() };
  const threads = batch.filter((a) => !a.doc.parent_id).map((a) => threadCluster(a.doc.id));
  // One lookup per document, ranked by shared bands, not one page of the oldest matches for the
  // whole batch: that page fills up with hot stories and boilerplate look-alikes and drops the
  // true copies, so a process that has just started (nothing in RecentMembers) clustered
  // differently from one that had been running.
  // Nor for documents whose candidates this process has all seen: the store would add none. That
  // spares most lookups of a process that has the store to itself.
  const bandSets = batch.map((a) => (a.doc.parent_id || recent.covers(Date.parse(a.doc.published_at), windowMs) ? [] : (a.bands ?? [])));

  const [byIdDocs, byDoc, threadDocs] = await Promise.all([
    ids.length ? store.searchDocuments({ id: ids, size: 1000 }) : empty(),
    bandSets.some((b) => b.length > 0) ? store.findBandMembers(bandSets, { time, size: CANDIDATES_PER_DOCUMENT }) : Promise.resolve(bandSets.map((): BandMember[] => [])),
    threads.length ? store.aggregateDocuments({ cluster_id: threads }, { terms: 'cluster_id', size: threads.length }) : Promise.resolve([]),
  ]);
  const member = (d: BandMember): Member[] =>
    d.cluster_id ? [{ id: d.id, cluster_id: d.cluster_id, published_at: d.published_at, ...(d.fingerprint ? { fingerprint: d.fingerprint } : {}) }] : [];
  return {
    byId: new Map(byIdDocs.items.flatMap((d) => member(d).map((m): [string, Member] => [m.id, m]))),
    byDoc: byDoc.map((list) => list.flatMap(member)),
    threads: new Set(threadDocs.map((b) => b.key)),
  };
}

function empty() {
  return Promise.resolve({ total: 0, items: [] as IndexedDocument[] });
}
