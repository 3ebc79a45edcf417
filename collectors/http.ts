import { setTimeout as sleep } from 'node:timers/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { isRetriable } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { withRetry } from '../core/retry';
import { decodeBody, type Decoded } from './charset';
import type { CollectorHttpConfig } from './config';
import { CollectError } from './errors';

/**
 * The one fetch layer of every collector (Crawlee's CheerioCrawler included, through an adapter):
 * timeouts, retries with backoff, proxy, user agent, per-host concurrency and pacing, a body-size cap
 * that refuses (never buffers) oversized bodies, a redirect limit with loop detection, conditional
 * GET, and charset detection.
 */

export interface FetchOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Conditional GET: sent as If-None-Match / If-Modified-Since; a 304 comes back as `notModified`. */
  etag?: string;
  lastModified?: string;
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of thrown (Weibo's 432 and 418 mean "blocked", the caller says so). */
  passStatuses?: number[];
  /** Per-request overrides of the client's settings. */
  userAgent?: string;
  proxy?: string;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Attempts, the first included; default the client's max_attempts. */
  maxAttempts?: number;
}

export interface FetchResponse {
  /** The URL finally answered, after redirects. */
  url: string;
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: Buffer;
  redirects: string[];
  notModified: boolean;
  /** Decodes the body (header, meta, BOM, then sniffing), or with `charset` when given. */
  text(charset?: string): Decoded;
}

/** Per host: at most `concurrency` requests in flight, starts at least `minIntervalMs` apart. */
export class HostLimiter {
  readonly #hosts = new Map<string, { active: number; nextStart: number; waiters: Array<() => void> }>();

  constructor(
    private readonly concurrency: number,
    private readonly minIntervalMs: number,
  ) {}

  /** Resolves with a release function once a slot for `host` is free and the pace allows a start. */
  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    let slot = this.#hosts.get(host);
    if (!slot) {
      slot = { active: 0, nextStart: 0, waiters: [] };
      this.#hosts.set(host, slot);
    }
    const s = slot;
    while (s.active >= this.concurrency) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          s.waiters = s.waiters.filter((w) => w !== wake);
          reject(signal?.reason);
        };
        s.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    s.active++;
    try {
      const now = Date.now();
      const start = Math.max(now, s.nextStart);
      s.nextStart = start + this.minIntervalMs;
      if (start > now) await sleep(start - now, undefined, signal ? { signal } : undefined);
    } catch (err) {
      this.#release(host, s);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(host, s);
    };
  }

  #release(host: string, s: { active: number; nextStart: number; waiters: Array<() => void> }): void {
    s.active--;
    const next = s.waiters.shift();
    // A woken waiter takes its slot a tick later, on this record: dropping the record now would let
    // a newcomer start a fresh one beside it, two requests where one is allowed.
    if (next) return next();
    if (s.active === 0 && Date.now() > s.nextStart && this.#hosts.get(host) === s) this.#hosts.delete(host);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Worth another attempt: the server is overloaded or the request timed out. */
const TRANSIENT_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface HttpClientOptions {
  config: CollectorHttpConfig;
  log?: Logger;
  /** Shared by every client of a process so that two sources on one host respect one limit. */
  limiter?: HostLimiter;
}

export class HttpClient {
  readonly config: CollectorHttpConfig;
  readonly limiter: HostLimiter;
  readonly #log: Logger;
  readonly #agent: Agent;
  readonly #proxies = new Map<string, ProxyAgent>();

  constructor(options: HttpClientOptions) {
    this.config = options.config;
    this.#log = options.log ?? silentLogger;
    this.limiter = options.limiter ?? new HostLimiter(options.config.per_host_concurrency, options.config.per_host_min_interval_ms);
    this.#agent = new Agent({ keepAliveTimeout: 10_000, connections: Math.max(options.config.per_host_concurrency, 1) * 2 });
  }

  /** GET (or POST) with retries for transient failures; throws CollectError for everything else. */
  async fetch(url: string, options: FetchOptions = {}): Promise<FetchResponse> {
    return withRetry((attempt) => this.#attempt(url, options, attempt), {
      maxAttempts: options.maxAttempts ?? this.config.max_attempts,
      initialDelayMs: this.config.retry_initial_delay_ms,
      maxDelayMs: this.config.retry_max_delay_ms,
      ...(options.signal ? { signal: options.signal } : {}),
      shouldRetry: isRetriable,
      onRetry: (err, attempt, delayMs) => this.#log.debug({ url, attempt, delayMs, err: (err as Error).message }, 'fetch failed; retrying'),
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#agent.close(), ...[...this.#proxies.values()].map((p) => p.close())]);
  }

  #dispatcher(proxy: string | undefined): Dispatcher {
    if (!proxy) return this.#agent;
    let agent = this.#proxies.get(proxy);
    if (!agent) {
      agent = new ProxyAgent(proxy);
      this.#proxies.set(proxy, agent);
    }
    return agent;
  }

  async #attempt(startUrl: string, options: FetchOptions, _attempt: number): Promise<FetchResponse> {
    const timeoutMs = options.timeoutMs ?? this.config.timeout_ms;
    const maxBody = options.maxBodyBytes ?? this.config.max_body_bytes;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const dispatcher = this.#dispatcher(options.proxy ?? this.config.proxy);
    const redirects: string[] = [];
    const visited = new Set<string>();
    let url = startUrl;
    let method = options.method ?? 'GET';
    let body = options.body;

    for (;;) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new CollectError('SB_COLLECT_HTTP_STATUS', `not a URL: ${url}`, { url });
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new CollectError('SB_COLLECT_HTTP_STATUS', `refusing ${parsed.protocol} URL`, { url });
      }
      visited.add(parsed.href);
      const headers: Record<string, string> = {
        'user-agent': options.userAgent ?? this.config.user_agent,
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7',
        'accept-language': 'zh-CN,zh;q=0.9,en;q=0.6',
        'accept-encoding': 'gzip, deflate, br',
        ...this.config.headers,
        ...lowerKeys(options.headers ?? {}),
      };
      if (options.etag && redirects.length === 0) headers['if-none-match'] = options.etag;
      if (options.lastModified && redirects.length === 0) headers['if-modified-since'] = options.lastModified;

      const release = await this.limiter.acquire(parsed.host, signal).catch((err: unknown) => {
        throw this.#abortError(err, options.signal, timeoutMs, url);
      });
      try {
        let res: Dispatcher.ResponseData;
        try {
          res = await request(parsed, {
            method,
            headers,
            ...(body !== undefined && method !== 'GET' ? { body } : {}),
            dispatcher,
            signal,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          });
        } catch (err) {
          throw this.#abortError(err, options.signal, timeoutMs, url);
        }
        const status = res.statusCode;
        const resHeaders = flattenHeaders(res.headers);
        const location = resHeaders.location;
        if (REDIRECTS.has(status) && location) {
          await res.body.dump().catch(() => undefined);
          const next = new URL(location, parsed).href;
          redirects.push(next);
          if (visited.has(next)) {
            throw new CollectError('SB_COLLECT_REDIRECTS', `redirect loop: ${[startUrl, ...redirects].join(' → ')}`, { url: startUrl, status });
          }
          if (redirects.length > this.config.max_redirects) {
            throw new CollectError('SB_COLLECT_REDIRECTS', `more than ${this.config.max_redirects} redirects`, { url: startUrl, status });
          }
          if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          url = next;
          continue;
        }
        if (status === 304) {
          await res.body.dump().catch(() => undefined);
          return this.#response(url, status, resHeaders, res.headers['set-cookie'], Buffer.alloc(0), redirects, true);
        }
        const passed = options.passStatuses?.includes(status) ?? false;
        if (status >= 400 && !passed) {
          await res.body.dump().catch(() => undefined);
          const transient = TRANSIENT_STATUSES.has(status);
          throw new CollectError(transient ? 'SB_COLLECT_FETCH_FAILED' : 'SB_COLLECT_HTTP_STATUS', `HTTP ${status}`, { url, status });
        }
        const bytes = await readBounded(res.body, resHeaders, maxBody, url).catch((err: unknown) => {
          throw err instanceof CollectError ? err : this.#abortError(err, options.signal, timeoutMs, url);
        });
        return this.#response(url, status, resHeaders, res.headers['set-cookie'], bytes, redirects, false);
      } finally {
        release();
      }
    }
  }

  #response(url: string, status: number, headers: Record<string, string>, setCookie: string | string[] | undefined, body: Buffer, redirects: string[], notModified: boolean): FetchResponse {
    return {
      url,
      status,
      headers,
      setCookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
      body,
      redirects,
      notModified,
      text: (charset?: string) => decodeBody(body, headers['content-type'], charset),
    };
  }

  /** A caller's abort passes through untouched (never retried); a timeout or socket error becomes retriable. */
  #abortError(err: unknown, callerSignal: AbortSignal | undefined, timeoutMs: number, url: string): unknown {
    if (callerSignal?.aborted) return callerSignal.reason ?? err;
    const e = err as { name?: string; code?: string; message?: string };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') {
      return new CollectError('SB_COLLECT_FETCH_FAILED', `timed out after ${timeoutMs} ms`, { url, cause: err });
    }
    return new CollectError('SB_COLLECT_FETCH_FAILED', `${e?.code ?? e?.name ?? 'error'}: ${e?.message ?? String(err)}`, { url, cause: err });
  }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * Reads a body, decompressing, and stops as soon as it passes `max` bytes (declared or decompressed):
 * a 20 MB page or a gzip bomb costs at most `max` bytes of memory, then the socket is closed.
 */
async function readBounded(stream: Readable, headers: Record<string, string>, max: number, url: string): Promise<Buffer> {
  const declared = Number(headers['content-length']);
  const tooLarge = () => new CollectError('SB_COLLECT_TOO_LARGE', `body larger than ${max} bytes refused`, { url });
  if (Number.isFinite(declared) && declared > max) {
    stream.destroy();
    throw tooLarge();
  }
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  let decoder: Transform | undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
  else if (encoding === 'deflate') decoder = createInflate();
  else if (encoding === 'br') decoder = createBrotliDecompress();
  const source: Readable = decoder ? stream.pipe(decoder) : stream;
  if (decoder) stream.on('error', (err) => decoder.destroy(err));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      total += buf.byteLength;
      if (total > max) throw tooLarge();
      chunks.push(buf);
    }
  } catch (err) {
    stream.destroy();
    decoder?.destroy();
    if (err instanceof CollectError) throw err;
    if ((err as { code?: string }).code?.startsWith('Z_')) {
      throw new CollectError('SB_COLLECT_MALFORMED', `corrupt ${encoding} body: ${(err as Error).message}`, { url, cause: err });
    }
    throw err;
  }
  return Buffer.concat(chunks, total);
}
