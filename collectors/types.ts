import type { Logger } from '../core/logger';
import type { Document, Platform } from '../core/records';
import type { CollectorsConfig, SourceConfig } from './config';
import type { HttpClient } from './http';
import type { Validators } from './state';

/** Where a round's documents go: the bus in the daemon, stdout for `shaobing collect --output -`. */
export type DocumentSink = (documents: Document[]) => Promise<void>;

/** What a collector is built with; one per source, alive for the daemon's life. */
export interface CollectorDeps {
  http: HttpClient;
  log: Logger;
  collectors: CollectorsConfig;
}

/**
 * A collector's view of one round. Documents go through `emit`, which validates them against the
 * Document schema (an invalid one is counted as a page failure, never emitted), drops ids already
 * emitted, and batches them to the sink. Cursors and validators set during the round take effect
 * only when the round's documents were accepted.
 */
export interface RunContext {
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The time of this round: relative times (5分钟前) are read against it. */
  readonly now: Date;
  /** Zone of page times without an offset. */
  readonly timeZone: string;
  /** True when the id was emitted before (this round or an earlier one). */
  isSeen(id: string): boolean;
  /** Validates and queues a document; resolves false when it was invalid, already seen, or the round is full. */
  emit(document: unknown): Promise<boolean>;
  /** Logs the page with its URL and error code, and counts it; the page is retried next round unless skipped. */
  pageFailed(url: string, error: unknown): void;
  /** Remembers an id without emitting it (a deleted article: no point fetching it again). */
  skip(id: string): void;
  cursor(key: string): string | undefined;
  setCursor(key: string, value: string | undefined): void;
  validators(url: string): Validators;
  setValidators(url: string, validators: Validators): void;
  /** max_items_per_run reached: stop fetching more. */
  readonly full: boolean;
}

export interface Collector {
  readonly source: SourceConfig;
  readonly platform: Platform;
  /**
   * One round. Throws when the source as a whole failed (feed unreachable, every list page broken,
   * blocked by the platform): that counts towards the source's error streak. Failures of single
   * pages are reported through `pageFailed` instead.
   */
  run(context: RunContext): Promise<void>;
  /** Releases browsers and the like; safe to call twice. */
  close(): Promise<void>;
}
