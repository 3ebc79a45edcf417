import { z } from 'zod';
import { stableId, type IndexedDocument } from '../core/records';
import { MAX_MEMBERS_PAGE, type BandMember, type Store } from '../store/types';
import type { Analysis } from './analyze';
import { bands as bandsOf, hashBands, hashesOf, hashSimilarity } from './minhash';

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

/** A member as clustering compares it, many times over: time parsed, fingerprint as numbers. */
interface Known extends Member {
  at: number;
  hashes?: Uint32Array;
  /** The last probe that compared it: a member sharing several bands with a document is compared once. */
  probed?: number;
  /** Where RecentMembers indexed it, when not its fingerprint's bands. */
  bands?: readonly string[];
}

let probes = 0;

/** Kept without the fingerprint's text: a hundred thousand of them are remembered. */
function known({ fingerprint, ...member }: Member): Known {
  return { ...member, at: Date.parse(member.published_at), ...(fingerprint ? { hashes: hashesOf(fingerprint) } : {}) };
}

/** What a near-duplicate search looks for. */
interface Probe {
  id: string;
  at: number;
  hashes: Uint32Array;
  windowMs: number;
  minSimilarity: number;
}

/** Publication order, then id: the order in which the earliest near-duplicate is chosen. */
function precedes(a: Known, b: Known): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/** Whether `b` is a near-duplicate of the probe within its window. */
function nearDuplicate(b: Known, probe: Probe): boolean {
  return b.id !== probe.id && b.hashes !== undefined && Math.abs(b.at - probe.at) <= probe.windowMs && hashSimilarity(b.hashes, probe.hashes) >= probe.minSimilarity;
}

/** `b` if it is a near-duplicate of the probe that precedes `a`, else `a`. */
function earlier(a: Known | undefined, b: Known, probe: Probe): Known | undefined {
  if (a && !precedes(b, a)) return a;
  return nearDuplicate(b, probe) ? b : a;
}

/** Index of the first member of a list in publication order that does not precede `member`. */
function lowerBound(list: readonly Known[], member: Pick<Known, 'at' | 'id'>): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (precedes(list[mid]!, member as Known)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * This process's recent assignments, newest kept: documents it stored a moment ago may not be
 * searchable yet (Elasticsearch refreshes about once a second), and a batch's earlier documents
 * are not stored at all when its later ones are clustered.
 */
export class RecentMembers {
  readonly #byId = new Map<string, Known>();
  /** Each band's members in publication order: the earliest near-duplicate is found without reading them all. */
  readonly #byBand = new Map<string, Known[]>();
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

  /** `bands`: the fingerprint's LSH bands when the caller has them at hand; else derived from it. */
  add(member: Member, bands?: readonly string[]): void {
    const before = this.#byId.get(member.id);
    if (before) this.#forget(before);
    const entry = known(member);
    const indexed = bands ?? (member.fingerprint ? bandsOf(member.fingerprint) : []);
    // Given bands are the fingerprint's (analysis made them), so they can be derived again.
    if (!member.fingerprint) entry.bands = indexed;
    this.#byId.set(member.id, entry);
    for (const band of indexed) {
      const members = this.#byBand.get(band);
      if (!members) this.#byBand.set(band, [entry]);
      // Documents mostly arrive in publication order: at the end.
      else if (precedes(members[members.length - 1]!, entry)) members.push(entry);
      else members.splice(lowerBound(members, entry), 0, entry);
    }
    if (member.parent_id) this.#byParent.set(member.parent_id, member.id);
    while (this.#byId.size > this.maxEntries) {
      const oldest = this.#byId.values().next().value as Known;
      this.unseenUpTo(oldest.at);
      this.#forget(oldest);
    }
  }

  #forget(member: Known): void {
    this.#byId.delete(member.id);
    for (const band of member.bands ?? (member.hashes ? hashBands(member.hashes) : [])) {
      const members = this.#byBand.get(band);
      if (!members) continue;
      const at = lowerBound(members, member);
      if (members[at] === member) members.splice(at, 1);
      if (members.length === 0) this.#byBand.delete(band);
    }
    if (member.parent_id && this.#byParent.get(member.parent_id) === member.id) this.#byParent.delete(member.parent_id);
  }

  get(id: string): Member | undefined {
    return this.#byId.get(id);
  }

  withBands(bands: readonly string[]): Member[] {
    return [...new Set(bands.flatMap((b) => [...(this.#byBand.get(b) ?? [])]))];
  }

  /** The earliest member sharing a band with the probe that is its near-duplicate, or `best` if that is earlier. */
  nearest(bands: readonly string[], probe: Probe, best?: Known): Known | undefined {
    const stamp = ++probes;
    for (const band of bands) {
      const members = this.#byBand.get(band);
      if (!members) continue;
      // In publication order from the window's start: the first near-duplicate is this band's
      // earliest, and nothing after the best so far can beat it.
      for (let i = lowerBound(members, { at: probe.at - probe.windowMs, id: '' }); i < members.length; i++) {
        const member = members[i]!;
        if (member.at > probe.at + probe.windowMs || (best && !precedes(member, best))) break;
        if (member.probed === stamp) continue;
        member.probed = stamp;
        if (nearDuplicate(member, probe)) {
          best = member;
          break;
        }
      }
    }
    return best;
  }

  /** A repost of `id` seen here, if any. */
  childOf(id: string): Member | undefined {
    const child = this.#byParent.get(id);
    return child === undefined ? undefined : this.#byId.get(child);
  }
}

/** A clustering lease's journal entry: the decisions of one section (docs/pipeline.md). */
const JournalEntry = z.object({
  members: z.array(
    z.object({ id: z.string(), cluster_id: z.string(), published_at: z.string(), fingerprint: z.string().optional(), parent_id: z.string().optional() }),
  ),
});

export function journalEntry(members: readonly Member[]): z.infer<typeof JournalEntry> {
  return { members: [...members] };
}

/** Remembers the decisions of other processes' journal entries; false if one is not an entry (then the store must tell). */
export function learnEntries(recent: RecentMembers, entries: readonly unknown[]): boolean {
  const parsed = entries.map((e) => JournalEntry.safeParse(e));
  if (!parsed.every((p) => p.success)) return false;
  for (const p of parsed) for (const member of p.data!.members) recent.add(member);
  return true;
}

/**
 * Makes `recent` hold every decision stored within twice the window of the newest stored
 * document, up to `limit` of them (older ones are marked unseen): a process that starts, or lost
 * track of the others, then clusters from memory like one that was there all along. Documents up
 * to a window older than the newest need candidates a window older still.
 */
export async function learnFromStore(store: Store, recent: RecentMembers, options: ClusterOptions & { limit?: number } = {}): Promise<number> {
  const windowMs = (options.windowHours ?? 72) * 3_600_000;
  const limit = options.limit ?? 30_000;
  await store.refresh('documents');
  let from: number | undefined;
  let to: number | undefined;
  let loaded = 0;
  for (;;) {
    const page = await store.listMembers({
      time: { ...(from !== undefined ? { from: new Date(from).toISOString() } : {}), ...(to !== undefined ? { to: new Date(to).toISOString() } : {}) },
      size: MAX_MEMBERS_PAGE,
    });
    // Oldest first, so that eviction, if any, takes the oldest.
    for (const m of [...page].reverse()) if (m.cluster_id) recent.add({ ...m, cluster_id: m.cluster_id });
    loaded += page.length;
    const newest = page[0];
    const oldest = page[page.length - 1];
    if (!newest || !oldest) break;
    from ??= Date.parse(newest.published_at) - 2 * windowMs;
    if (page.length < MAX_MEMBERS_PAGE) break;
    // The oldest millisecond again (exclusive ends): documents sharing it may straddle pages.
    const next = Date.parse(oldest.published_at) + 1;
    if (loaded >= limit || next === to) {
      recent.unseenUpTo(next - 1);
      return loaded;
    }
    to = next;
  }
  if (from !== undefined) recent.unseenUpTo(from - 1);
  return loaded;
}

export function threadCluster(rootId: string): string {
  return stableId('thread', rootId);
}

export interface Assignment {
  /** The cluster of each document of the batch, by index. */
  clusters: string[];
  /** The decisions, as other processes learn them (docs/pipeline.md, the clustering lease). */
  members: Member[];
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
  if (batch.length === 0) return { clusters: [], members: [], commit };
  const stored = await lookups(batch, store, windowMs, recent);
  // The batch's own earlier decisions first, then this process's recent ones.
  const seen = {
    get: (id: string) => local.get(id) ?? recent.get(id),
    childOf: (id: string) => local.childOf(id) ?? recent.childOf(id),
  };

  const clusters = batch.map((a, index) => {
    const { doc } = a;
    const previously = stored.byId.get(doc.id) ?? seen.get(doc.id);
    const assign = (cluster: string) => {
      const member: Member = { id: doc.id, cluster_id: cluster, published_at: doc.published_at, ...(a.fingerprint ? { fingerprint: a.fingerprint } : {}), ...(doc.parent_id ? { parent_id: doc.parent_id } : {}) };
      local.add(member, a.bands);
      decided.push({ member, ...(a.bands ? { bands: a.bands } : {}) });
      return cluster;
    };
    if (previously) return assign(previously.cluster_id);

    if (doc.parent_id) {
      const parent = seen.get(doc.parent_id) ?? stored.byId.get(doc.parent_id);
      return assign(parent?.cluster_id ?? threadCluster(doc.parent_id));
    }
    const thread = threadCluster(doc.id);
    if (seen.childOf(doc.id) || stored.threads.has(thread)) return assign(thread);

    if (a.fingerprint && a.bands) {
      const probe: Probe = { id: doc.id, at: Date.parse(doc.published_at), hashes: hashesOf(a.fingerprint), windowMs, minSimilarity };
      let near = recent.nearest(a.bands, probe, local.nearest(a.bands, probe));
      for (const candidate of stored.byDoc[index]!) near = earlier(near, candidate, probe);
      if (near) return assign(near.cluster_id);
    }
    return assign(stableId('cluster', doc.id));
  });
  return { clusters, members: decided.map((d) => d.member), commit };
}

interface StoredLookups {
  byId: Map<string, Member>;
  /** For each document of the batch (by index): the stored documents sharing the most bands with it. */
  byDoc: Known[][];
  /** Thread clusters that already have members in the store. */
  threads: Set<string>;
}

/**
 * Per document, the stored documents sharing the most bands with it. Copies of one story share
 * many; posts that only share a boilerplate phrase (「央视新闻的微博视频」) share one or two.
 */
const CANDIDATES_PER_DOCUMENT = 20;

/**
 * What the store knows that this process's memory may not. Nothing, for a document whose window
 * the memory covers (every decision within it is here: the common case, docs/pipeline.md), except
 * an original it has not seen.
 */
async function lookups(batch: readonly Analysis[], store: Store, windowMs: number, recent: RecentMembers): Promise<StoredLookups> {
  const uncovered = batch.map((a) => !recent.covers(Date.parse(a.doc.published_at), windowMs));
  const ids = [
    ...new Set(batch.flatMap((a, i) => [...(uncovered[i] ? [a.doc.id] : []), ...(a.doc.parent_id && !recent.get(a.doc.parent_id) ? [a.doc.parent_id] : [])])),
  ];
  const uncoveredTimes = batch.flatMap((a, i) => (uncovered[i] ? [Date.parse(a.doc.published_at)] : []));
  const time = () => ({ from: new Date(Math.min(...uncoveredTimes) - windowMs).toISOString(), to: new Date(Math.max(...uncoveredTimes) + windowMs + 1).toISOString() });
  const threads = batch.filter((a, i) => uncovered[i] && !a.doc.parent_id).map((a) => threadCluster(a.doc.id));
  // One lookup per document, ranked by shared bands, not one page of the oldest matches for the
  // whole batch: that page fills up with hot stories and boilerplate look-alikes and drops the
  // true copies, so a process that has just started (nothing in RecentMembers) clustered
  // differently from one that had been running.
  const bandSets = batch.map((a, i) => (a.doc.parent_id || !uncovered[i] ? [] : (a.bands ?? [])));

  const [byIdDocs, byDoc, threadDocs] = await Promise.all([
    ids.length ? store.searchDocuments({ id: ids, size: 1000 }) : empty(),
    bandSets.some((b) => b.length > 0) ? store.findBandMembers(bandSets, { time: time(), size: CANDIDATES_PER_DOCUMENT }) : Promise.resolve(bandSets.map((): BandMember[] => [])),
    threads.length ? store.aggregateDocuments({ cluster_id: threads }, { terms: 'cluster_id', size: threads.length }) : Promise.resolve([]),
  ]);
  const member = (d: BandMember): Member[] =>
    d.cluster_id ? [{ id: d.id, cluster_id: d.cluster_id, published_at: d.published_at, ...(d.fingerprint ? { fingerprint: d.fingerprint } : {}) }] : [];
  return {
    byId: new Map(byIdDocs.items.flatMap((d) => member(d).map((m): [string, Member] => [m.id, m]))),
    byDoc: byDoc.map((list) => list.flatMap(member).map(known)),
    threads: new Set(threadDocs.map((b) => b.key)),
  };
}

function empty() {
  return Promise.resolve({ total: 0, items: [] as IndexedDocument[] });
}
