import { ShaobingError, type ErrorCode, type ShaobingErrorOptions } from '../core/errors';

/** Codes collectors throw; each is in core/errors.ts and docs/errors.md. */
export type CollectErrorCode = Extract<ErrorCode, `SB_COLLECT_${string}`>;

export interface CollectErrorOptions extends ShaobingErrorOptions {
  /** The page, feed or API URL the failure is about. */
  url?: string;
  /** The HTTP status, when there was one. */
  status?: number;
}

/**
 * A collector failure, with the URL it concerns. Retriable ones (network, timeout, 5xx) are retried
 * by the fetch layer; SB_COLLECT_BLOCKED ends the source's round and backs the source off; the rest
 * fail one page, which is logged with its URL, counted, and never emitted half-parsed.
 */
export class CollectError extends ShaobingError {
  declare readonly code: CollectErrorCode;
  readonly url: string | undefined;
  readonly status: number | undefined;

  constructor(code: CollectErrorCode, message: string, options: CollectErrorOptions = {}) {
    super(code, options.url && !message.includes(options.url) ? `${message} (${options.url})` : message, options);
    this.name = 'CollectError';
    this.url = options.url;
    this.status = options.status;
  }
}

export function isBlocked(err: unknown): err is CollectError {
  return err instanceof CollectError && err.code === 'SB_COLLECT_BLOCKED';
}

/** The stable code of any error, for health records and metrics labels. */
export function errorCode(err: unknown): string {
  if (err instanceof ShaobingError) return err.code;
  if (err instanceof Error && err.name === 'AbortError') return 'ABORTED';
  return 'INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
