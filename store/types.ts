import { ShaobingError } from '../core/errors';
import { IndexedDocument, type Alert, type AlertStatus, type AuditEntry, type Delivery, type Level, type Platform } from '../core/records';

/**
 * The Store keeps documents and alert records (with their history). Two backends implement it
 * (Elasticsearch API; embedded PGlite) and one contract suite holds both to the same behaviour.
 */

/** Opaque optimistic-concurrency token: seq_no/primary_term in Elasticsearch, a counter when embedded. */
export type Version = string;

export interface Versioned<T> {
  value: T;
  version: Version;
}

export interface TimeRange {
  /** Inclusive, ISO 8601. */
  from?: string;
  /** Exclusive, ISO 8601. */
  to?: string;
}

/** Bounds on a number, as in an Elasticsearch range query. */
export interface NumberRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface DocumentQuery {
  id?: string[];
  /** On published_at. */
  time?: TimeRange;
  /** On the whole document's sentiment; documents without one never match. */
  sentiment?: NumberRange;
  platform?: Platform[];
  source?: string[];
  /** Topic (rule) ids the document matched. */
  topic?: string[];
  level?: Level[];
  cluster_id?: string[];
  /** Documents sharing any of these fingerprint bands: the near-duplicate candidates. */
  fingerprint_bands?: string[];
  /** Whitespace-separated tokens, as the tokenizer cuts them; every token must occur. */
  text?: string;
  /** Newest first unless `asc`. */
  order?: 'desc' | 'asc';
  /** Default 20, at most 1000. */
  size?: number;
  offset?: number;
}

export interface AlertQuery {
  /** On last_seen_at. */
  time?: TimeRange;
  /** On opened_at. */
  opened?: TimeRange;
  level?: Level[];
  status?: AlertStatus[];
  topic?: string[];
  /** Alerts whose cluster has documents from any of these platforms. */
  platform?: Platform[];
  cluster_id?: string[];
  text?: string;
  /** Only alerts whose outbox holds unpublished events. */
  with_outbox?: boolean;
  /** `severity`: most severe first, then newest. Default `recent`: newest last_seen_at first. */
  order?: 'recent' | 'severity';
  size?: number;
  offset?: number;
}

/** Attempts to reach people (the notifier's delivery log). */
export interface DeliveryQuery {
  alert_id?: string[];
  event_id?: string[];
  person?: string[];
  channel?: Delivery['channel'][];
  status?: Delivery['status'][];
  /** On `at`. */
  time?: TimeRange;
  /** Newest first unless `asc`. */
  order?: 'desc' | 'asc';
  size?: number;
  offset?: number;
}

/** The audit log (who changed what in the console or by a CLI command); newest first. */
export interface AuditQuery {
  user?: string[];
  action?: string[];
  target?: string[];
  /** On `at`. */
  time?: TimeRange;
  size?: number;
  offset?: number;
}

export const DOCUMENT_TERMS_FIELDS = ['platform', 'source', 'topics', 'level', 'cluster_id', 'author_tier'] as const;
export const ALERT_TERMS_FIELDS = ['level', 'status', 'topic', 'platforms', 'sources'] as const;
/** Time fields an alert histogram may bucket on; the first is the default. */
export const ALERT_TIME_FIELDS = ['last_seen_at', 'opened_at'] as const;
/** Document metrics a histogram may sum per bucket (`metrics.<name>`). */
export const DOCUMENT_SUM_FIELDS = ['reposts', 'comments'] as const;
export type DocumentTermsField = (typeof DOCUMENT_TERMS_FIELDS)[number];
export type AlertTermsField = (typeof ALERT_TERMS_FIELDS)[number];
export type AlertTimeField = (typeof ALERT_TIME_FIELDS)[number];
export type DocumentSumField = (typeof DOCUMENT_SUM_FIELDS)[number];

/** `T`: the time fields a histogram may choose (documents: published_at only); `S`: the metrics it may sum. */
export type Aggregation<F extends string, T extends string = never, S extends string = never> =
  | { terms: F; size?: number }
  /** Buckets start at calendar boundaries in `time_zone` (default Asia/Shanghai); empty buckets are omitted. */
  | { date_histogram: 'hour' | 'day' | 'week' | 'month'; time_zone?: string; field?: T; sum?: S };

export interface Bucket {
  /** A term, or the ISO 8601 start of a date bucket. */
  key: string;
  count: number;
  /** The bucket's total of the metric a histogram's `sum` named (missing values count 0). */
  sum?: number;
}

/** What the alert of a cluster is made of, recomputed from the stored documents each time. */
export interface DocumentSummary {
  count: number;
  /** Earliest and latest published_at, ISO 8601 (undefined when count is 0). */
  first_at?: string;
  last_at?: string;
  /** Up to 100 sources, most documents first. */
  sources: Bucket[];
  platforms: Bucket[];
  reposts: number;
  comments: number;
  /**
   * Most documents published within one clock hour (UTC). Unlike "in the last hour" it only ever
   * grows as documents are added, whatever order they arrive in, so decisions built on it replay
   * the same way.
   */
  peak_per_hour: number;
}

/** What an alert's figures are made of, per document (DocumentSummary sums these). */
export type DocumentFigures = Pick<IndexedDocument, 'published_at' | 'source' | 'platform' | 'metrics'>;

/**
 * Exact counts of some documents' figures: a DocumentSummary before it keeps only the top
 * sources and platforms, so that the counts of two sets of documents add up (store/figures.ts).
 */
export interface FigureCounts {
  count: number;
  first_at?: string;
  last_at?: string;
  reposts: number;
  comments: number;
  /** Every source, platform and UTC clock hour (its ISO start) with its count, in no order. */
  sources: Bucket[];
  platforms: Bucket[];
  hours: Bucket[];
}

/** A query's documents split at a time: the older counted, the newer listed. */
export interface SplitFigures {
  /** The documents published before the split, counted; undefined when too varied to count in one go. */
  before?: FigureCounts;
  /** The figures of those published from the split on, newest first (up to MAX_PAGE_SIZE; `total` says how many). */
  since: SearchResult<DocumentFigures>;
}

/** One alert write of several: an update from `expected`, or a create when absent. */
export interface AlertWrite {
  alert: Alert;
  expected?: Version;
}

/** What clustering needs of a stored document. */
export interface BandMember {
  id: string;
  cluster_id?: string;
  published_at: string;
  fingerprint?: string;
  parent_id?: string;
}

/** Most documents listMembers returns at once. */
export const MAX_MEMBERS_PAGE = 10_000;

export interface LeaseGrant {
  /** Who held the lease last before this grant (the same owner for a renewal); undefined if nobody ever did. */
  previousOwner?: string;
  /** How far the lease's journal has advanced (`advance`), over all its holders; 0 at first. */
  position: number;
  /** Someone else asked for the lease while this owner held it: the holder should hand it over soon. */
  contended: boolean;
}

/** Journal entries are kept for the last this many positions of a lease; older ones may be gone. */
export const LEASE_JOURNAL_SIZE = 64;

export interface SearchResult<T> {
  total: number;
  items: T[];
}

export interface Store {
  readonly kind: 'elasticsearch' | 'embedded';
  /** Creates index templates / tables; safe to call on every start. */
  init(): Promise<void>;
  /** Idempotent bulk upsert by id: writing the same document twice leaves one record. */
  putDocuments(docs: IndexedDocument[]): Promise<void>;
  getDocument(id: string): Promise<IndexedDocument | undefined>;
  searchDocuments(query: DocumentQuery): Promise<SearchResult<IndexedDocument>>;
  aggregateDocuments(query: DocumentQuery, aggregation: Aggregation<DocumentTermsField, never, DocumentSumField>): Promise<Bucket[]>;
  summarizeDocuments(query: DocumentQuery): Promise<DocumentSummary>;
  /**
   * Near-duplicate candidates of several documents in one round trip: for each band set, the
   * `size` documents (default 20) published in `time` that share the most of those bands, then
   * the oldest (then by id). Each document has its own lookup, so a hot story cannot crowd the
   * candidates of the others out of a shared page, nor posts sharing one boilerplate phrase
   * crowd out the true copies.
   */
  findBandMembers(lookups: ReadonlyArray<readonly string[]>, options: { time: TimeRange; size?: number }): Promise<BandMember[][]>;
  /**
   * What clustering needs of the newest `size` documents (at most MAX_MEMBERS_PAGE) published in
   * `time`, newest first (then by id): how a pipeline process learns the decisions it missed.
   */
  listMembers(options: { time: TimeRange; size: number }): Promise<BandMember[]>;
  /**
   * For each query, its documents split at `since`: those published before counted, those from
   * then on listed; all in one round trip. How the pipeline sums a growing cluster without
   * reading all of it each time.
   */
  splitDocumentFigures(queries: ReadonlyArray<{ query: DocumentQuery; since: string }>): Promise<SplitFigures[]>;
  /** Fails with SB_STORE_EXISTS when the id is taken: two pipelines racing to open one alert get one winner. */
  createAlert(alert: Alert): Promise<Versioned<Alert>>;
  getAlert(id: string): Promise<Versioned<Alert> | undefined>;
  /** Fails with SB_STORE_CONFLICT unless the stored version is still `expected`. */
  updateAlert(alert: Alert, expected: Version): Promise<Versioned<Alert>>;
  /** The alerts of these ids that exist, in one round trip. */
  getAlerts(ids: readonly string[]): Promise<Map<string, Versioned<Alert>>>;
  /**
   * createAlert / updateAlert for several alerts in one round trip: for each write, the alert as
   * written, or undefined where it lost a race (SB_STORE_EXISTS or SB_STORE_CONFLICT alone would
   * have been thrown). Any other failure fails the call.
   */
  writeAlerts(writes: readonly AlertWrite[]): Promise<Array<Versioned<Alert> | undefined>>;
  searchAlerts(query: AlertQuery): Promise<SearchResult<Versioned<Alert>>>;
  aggregateAlerts(query: AlertQuery, aggregation: Aggregation<AlertTermsField, AlertTimeField>): Promise<Bucket[]>;
  /** Idempotent upsert by id, like putDocuments: a retried write of the same attempt leaves one record. */
  putDeliveries(deliveries: Delivery[]): Promise<void>;
  searchDeliveries(query: DeliveryQuery): Promise<SearchResult<Delivery>>;
  /** Idempotent by id: an entry written twice (a retried import) is one entry. Invalid entries fail the call, naming them. */
  putAudit(entries: AuditEntry[]): Promise<void>;
  searchAudit(query: AuditQuery): Promise<SearchResult<AuditEntry>>;
  /**
   * Mutual exclusion between processes sharing this store: a grant when `owner` now holds the
   * lease `name` for `ttlMs` (it was free, expired, or already `owner`'s), else undefined. With
   * `renew`, granted only while `owner` still holds it, expired or not: no one else took it in
   * between. Expiry is judged by the callers' clocks, so theirs must agree to well within `ttlMs`.
   */
  /**
   * A refused owner is remembered as waiting, which the holder's next grant reports (`contended`).
   * With `advance` (a holder's renewal), the journal's position moves one on: the holder may
   * then write the entry of the new position.
   */
  acquireLease(name: string, owner: string, ttlMs: number, options?: { renew?: boolean; advance?: boolean }): Promise<LeaseGrant | undefined>;
  /** Frees the lease if `owner` holds it; otherwise does nothing. */
  releaseLease(name: string, owner: string): Promise<void>;
  /**
   * The lease's journal: what each holder did, for the next holders to read. An entry is written
   * by the holder that advanced to its position; entries more than LEASE_JOURNAL_SIZE positions
   * old may be overwritten. Reads are real-time (no refresh needed).
   */
  putLeaseEntry(name: string, position: number, entry: unknown): Promise<void>;
  /** The entries still kept at these positions (missing ones, never written or overwritten, are absent). */
  getLeaseEntries(name: string, positions: readonly number[]): Promise<Map<number, unknown>>;
  /**
   * Makes every write so far visible to search (Elasticsearch is near-real-time; gets are always
   * current); with `documents`, only the documents' (the others become visible within a second).
   */
  refresh(only?: 'documents'): Promise<void>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(size: number | undefined): number {
  return Math.min(Math.max(size ?? DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE);
}

export function queryTokens(text: string | undefined): string[] {
  return text ? text.split(/\s+/).filter((t) => t.length > 0) : [];
}

export interface BulkItemFailure {
  id: string;
  reason: string;
  /** Rejected for load (429) or an unavailable shard: the same write may succeed later. */
  retriable: boolean;
}

/**
 * Some documents of a bulk write failed while the others were stored. Retriable as a whole only
 * when every failure is; otherwise the caller dead-letters the non-retriable ids.
 */
export class StoreBulkError extends ShaobingError {
  readonly failures: BulkItemFailure[];
  constructor(failures: BulkItemFailure[]) {
    const sample = failures.slice(0, 3).map((f) => `${f.id}: ${f.reason}`).join('; ');
    super('SB_STORE_BULK_PARTIAL', `${failures.length} document(s) not stored (${sample})`, {
      retriable: failures.every((f) => f.retriable),
    });
    this.name = 'StoreBulkError';
    this.failures = failures;
  }
}

/**
 * Documents failing the schema are set aside before the write, whichever backend, so a poison
 * document is reported by id (non-retriable) while the rest of the batch is stored.
 */
export function screenDocuments(docs: IndexedDocument[]): { valid: IndexedDocument[]; failures: BulkItemFailure[] } {
  const valid: IndexedDocument[] = [];
  const failures: BulkItemFailure[] = [];
  for (const doc of docs) {
    const parsed = IndexedDocument.safeParse(doc);
    if (parsed.success) valid.push(doc);
    else failures.push({ id: String(doc?.id), reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), retriable: false });
  }
  return { valid, failures };
}
