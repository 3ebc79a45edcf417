/**
 * Every error a user can see carries a stable code from this table, in the manner of fastify's
 * lib/errors.js, and says whether retrying can help, in the manner of kafkajs. Throw sites import
 * the code by name; docs/errors.md lists the same codes and a test keeps the two in step.
 */
export const ERROR_CODES = {
  SB_CONFIG_INVALID: { retriable: false, summary: 'a configuration or rule file failed validation' },
  SB_CONFIG_NOT_FOUND: { retriable: false, summary: 'a configuration file could not be read' },
  SB_INFRA_TOOL_MISSING: { retriable: false, summary: 'java or mvn is not installed' },
  SB_INFRA_START_FAILED: { retriable: false, summary: 'a local Kafka or OpenSearch did not start' },
  SB_BUS_UNAVAILABLE: { retriable: true, summary: 'the bus (Kafka or embedded) cannot be reached' },
  SB_BUS_REJECTED: { retriable: false, summary: 'the broker refused a request (message too large, authorisation…)' },
  SB_BUS_STOPPED: { retriable: false, summary: 'the bus was used after stop()' },
  SB_BUS_UNKNOWN_TOPIC: { retriable: false, summary: 'a topic name is not one of the configured topics' },
  SB_STORE_UNAVAILABLE: { retriable: true, summary: 'the store (Elasticsearch or embedded) cannot be reached' },
  SB_STORE_CONFLICT: { retriable: true, summary: 'an optimistic-concurrency update lost a race; re-read and retry' },
  SB_STORE_EXISTS: { retriable: false, summary: 'a record that must be new already exists' },
  SB_STORE_REJECTED: { retriable: false, summary: 'the store refused a request (mapping, query or document error)' },
  SB_STORE_BULK_PARTIAL: { retriable: false, summary: 'some documents of a bulk write failed; the error lists which and whether each may be retried' },
  SB_STORE_STOPPED: { retriable: false, summary: 'the store was used after close()' },
  SB_ALERT_TRANSITION: { retriable: false, summary: 'an alert action is not allowed in the alert\'s current status, or lacks its reason' },
  SB_COLLECT_FETCH_FAILED: { retriable: true, summary: 'a page or feed could not be fetched (network error, timeout, 5xx, 429)' },
  SB_COLLECT_HTTP_STATUS: { retriable: false, summary: 'a page or feed answered with an HTTP error status that retrying will not fix (404, 403…)' },
  SB_COLLECT_TOO_LARGE: { retriable: false, summary: 'a response was larger than collectors.http.max_body_bytes and was refused' },
  SB_COLLECT_REDIRECTS: { retriable: false, summary: 'a URL redirected in a loop or more times than collectors.http.max_redirects' },
  SB_COLLECT_BLOCKED: { retriable: false, summary: 'a platform blocked the collector (captcha, 432/418, login or cookie expired); the source backs off and operators are told' },
  SB_COLLECT_MALFORMED: { retriable: false, summary: 'a page, feed or API answer could not be parsed into a complete document' },
  SB_COLLECT_DELETED: { retriable: false, summary: 'an article or post was deleted by its publisher or the platform' },
  SB_COLLECT_UNKNOWN_SOURCE: { retriable: false, summary: 'a source name given on the command line is not configured' },
  SB_NOTIFY_SEND_FAILED: { retriable: true, summary: 'a notification channel could not be reached (network error, timeout, 5xx, throttled); retried, then the next channel is tried' },
  SB_NOTIFY_REJECTED: { retriable: false, summary: 'a notification provider refused a message (signature, template, number, quota); the next channel is tried' },
  SB_NOTIFY_ACK_INVALID: { retriable: false, summary: 'an acknowledgement link is malformed, forged, expired or already used' },
  SB_CONSOLE_UNAUTHENTICATED: { retriable: false, summary: 'a console request without a valid session (never signed in, signed out, expired, or revoked by a password change or disabling)' },
  SB_CONSOLE_SIGNIN_FAILED: { retriable: false, summary: 'sign-in refused: unknown user, wrong password or disabled user (the message does not say which)' },
  SB_CONSOLE_RATE_LIMITED: { retriable: true, summary: 'too many failed sign-ins for this user name or address; retry after the Retry-After seconds' },
  SB_CONSOLE_FORBIDDEN: { retriable: false, summary: 'the signed-in user\'s role may not call this console route' },
  SB_CONSOLE_CSRF: { retriable: false, summary: 'a console request that changes state lacked the session\'s x-csrf-token header, or carried a wrong one' },
  SB_CONSOLE_BAD_REQUEST: { retriable: false, summary: 'a console request\'s body, query or parameters failed validation; the message names the field' },
  SB_CONSOLE_NOT_FOUND: { retriable: false, summary: 'a console route or the record it names does not exist' },
  SB_CONSOLE_STARTING: { retriable: true, summary: 'the console role has not finished starting (store or rules not loaded yet)' },
  SB_CONSOLE_INTERNAL: { retriable: false, summary: 'an unexpected error in a console request; the daemon\'s log has the details' },
  SB_CONSOLE_USERS_FILE: { retriable: false, summary: 'the console users file is unreadable or malformed, or a user command names a user that does (or does not) exist' },
  SB_RULES_CONFLICT: { retriable: false, summary: 'a topic file was saved from the console over a version that is no longer on disk (changed by someone else, git or an editor); the error gives the current version' },
  SB_RULES_BACKTEST_BUSY: { retriable: true, summary: 'the console is already running as many backtests as it allows at once; retry when one has finished' },
  SB_BRIEFING_RENDER_FAILED: { retriable: false, summary: 'a briefing could not be rendered (Chromium missing or failing for the PDF, the Word writer failing); the formats that did render are kept' },
  SB_RECORD_INVALID: { retriable: false, summary: 'a record crossing a boundary failed its schema' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ShaobingErrorOptions {
  cause?: unknown;
  /** Overrides the code's default when the situation knows better (e.g. a 429 from the store). */
  retriable?: boolean;
}

export class ShaobingError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: ShaobingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShaobingError';
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
  }
}

export function isShaobingError(err: unknown, code?: ErrorCode): err is ShaobingError {
  return err instanceof ShaobingError && (code === undefined || err.code === code);
}

/** Programming errors are never worth a retry (kafkajs' retrier makes the same call). */
export function isRetriable(err: unknown): boolean {
  if (err instanceof ShaobingError) return err.retriable;
  return !(err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError || err instanceof RangeError);
}
