import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type ErrorCode, isShaobingError, ShaobingError } from '../core/errors';

/**
 * What every console route shares: parsing input with zod into a 400 that names the field, errors
 * with an HTTP status and optional details, and the JSON shape `{code, message, details?}` the
 * browser reads. Route modules import from here, never from console/plugin.ts (which imports them).
 */

/** The HTTP status each error code means when it reaches a console client. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  SB_CONSOLE_UNAUTHENTICATED: 401,
  SB_CONSOLE_SIGNIN_FAILED: 401,
  SB_CONSOLE_RATE_LIMITED: 429,
  SB_CONSOLE_FORBIDDEN: 403,
  SB_CONSOLE_CSRF: 403,
  SB_CONSOLE_BAD_REQUEST: 400,
  SB_CONSOLE_NOT_FOUND: 404,
  SB_CONSOLE_STARTING: 503,
  SB_CONSOLE_USERS_FILE: 409,
  SB_STORE_CONFLICT: 409,
  SB_STORE_EXISTS: 409,
  SB_ALERT_TRANSITION: 409,
  SB_CONFIG_INVALID: 422,
  SB_STORE_UNAVAILABLE: 503,
  SB_STORE_STOPPED: 503,
};

export interface ConsoleErrorOptions {
  /** Overrides the status the code maps to (e.g. 422 for an invalid rule file). */
  status?: number;
  /** Sent to the client as `details`: issues with line and column, the field at fault… */
  details?: unknown;
  cause?: unknown;
}

/** A ShaobingError that knows its HTTP status and carries details for the client. */
export class ConsoleError extends ShaobingError {
  readonly status: number;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, options: ConsoleErrorOptions = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'ConsoleError';
    this.status = options.status ?? STATUS[code] ?? 500;
    this.details = options.details;
  }
}

export function notFound(what: string): ConsoleError {
  return new ConsoleError('SB_CONSOLE_NOT_FOUND', `${what} not found`);
}

/**
 * Parses one part of a request; on failure a 400 SB_CONSOLE_BAD_REQUEST whose message names the
 * first bad field (`query.size: …`) and whose details list every issue.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ field: [where, ...i.path.map(String)].join('.'), message: i.message }));
  const first = issues[0]!;
  throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', `${first.field}: ${first.message}`, { details: { issues } });
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** Status and body for any error thrown by a console route; unexpected ones are logged, not shown. */
export function errorResponse(err: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (err instanceof ConsoleError) {
    return { status: err.status, body: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
  }
  if (isShaobingError(err)) return { status: STATUS[err.code] ?? 500, body: { code: err.code, message: err.message } };
  const fastifyError = err as { validation?: Array<{ instancePath?: string; message?: string }>; validationContext?: string; statusCode?: number; message?: string };
  if (fastifyError.validation) {
    const first = fastifyError.validation[0];
    const field = [fastifyError.validationContext ?? 'request', ...(first?.instancePath ?? '').split('/').filter(Boolean)].join('.');
    return { status: 400, body: { code: 'SB_CONSOLE_BAD_REQUEST', message: `${field}: ${first?.message ?? 'invalid'}` } };
  }
  // Fastify's own 4xx (malformed JSON, unsupported media type, body too large) are the client's fault.
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { code: 'SB_CONSOLE_BAD_REQUEST', message: fastifyError.message ?? 'bad request' } };
  }
  request.log.error({ err, url: request.url }, 'console request failed');
  return { status: 500, body: { code: 'SB_CONSOLE_INTERNAL', message: 'unexpected error; the daemon log has the details' } };
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = errorResponse(err, reply.request);
  if (err instanceof ConsoleError && err.code === 'SB_CONSOLE_RATE_LIMITED') {
    const retryAfter = (err.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  }
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** The signed-in user of a non-public route (the hooks guarantee one). */
export function userOf(request: FastifyRequest): NonNullable<FastifyRequest['user']> {
  if (!request.user) throw new ConsoleError('SB_CONSOLE_UNAUTHENTICATED', 'sign in first');
  return request.user;
}
