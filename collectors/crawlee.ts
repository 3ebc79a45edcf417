import { Readable } from 'node:stream';
import {
  Configuration,
  Log,
  Logger as CrawleeLogger,
  LogLevel,
  log as crawleeGlobalLog,
  type BaseHttpClient,
  type HttpRequest,
  type HttpResponse,
  type RedirectHandler,
  type ResponseTypes,
  type StreamingHttpResponse,
} from '@crawlee/core';
import type { Frame, Page, Request } from 'playwright-core';
import type { Logger } from '../core/logger';
import { errorCode, errorMessage } from './errors';
import type { FetchResponse, HttpClient } from './http';

/**
 * Crawlee plumbing: Crawlee's plain-HTTP crawlers fetch through Shaobing's fetch layer (so the
 * per-host limits, body cap, redirect rules and charset detection apply to them too), so do the
 * pages Chromium renders (every request the page makes is routed through it), Crawlee's own
 * log lines go to pino on stderr (never stdout, which `collect --output -` owns), and every crawler
 * gets its own in-memory storage (a shared default queue would make a second crawler skip URLs).
 */

const DECODED_TYPES = /^(text\/|application\/(xhtml\+xml|xml|json|rss\+xml|atom\+xml))/i;

export class ShaobingHttpClient implements BaseHttpClient {
  constructor(
    private readonly http: HttpClient,
    private readonly options: { encoding?: string; userAgent?: string; proxy?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
  ) {}

  async sendRequest<T extends keyof ResponseTypes = 'text'>(request: HttpRequest<T>): Promise<HttpResponse<T>> {
    const streamed = await this.stream(request as HttpRequest);
    const chunks: Buffer[] = [];
    for await (const chunk of streamed.stream) chunks.push(chunk as Buffer);
    const buffer = Buffer.concat(chunks);
    const type = request.responseType ?? 'text';
    const body = type === 'buffer' ? buffer : type === 'json' ? JSON.parse(buffer.toString('utf8')) : buffer.toString('utf8');
    return { ...streamed, body } as unknown as HttpResponse<T>;
  }

  async stream(request: HttpRequest, _onRedirect?: RedirectHandler): Promise<StreamingHttpResponse> {
    const headers: Record<string, string> = { ...(this.options.headers ?? {}) };
    for (const [k, v] of Object.entries(request.headers ?? {})) {
      if (typeof v === 'string' && !/^(host|connection|content-length)$/i.test(k)) headers[k.toLowerCase()] = v;
    }
    const timeout = request.timeout && 'request' in request.timeout ? request.timeout.request : undefined;
    const res = await this.http.fetch(String(request.url), {
      headers,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(this.options.userAgent ? { userAgent: this.options.userAgent } : {}),
      ...(this.options.proxy ? { proxy: this.options.proxy } : {}),
      ...((this.options.timeoutMs ?? timeout) ? { timeoutMs: this.options.timeoutMs ?? timeout } : {}),
    });
    const contentType = res.headers['content-type'] ?? 'text/html';
    const mime = contentType.split(';')[0]!.trim();
    let body = res.body;
    const outHeaders: Record<string, string> = { ...res.headers };
    delete outHeaders['content-encoding'];
    if (DECODED_TYPES.test(mime) || res.body.byteLength === 0) {
      // Decoded here (header, meta, BOM, sniffing), handed to Crawlee as UTF-8.
      body = Buffer.from(res.text(this.options.encoding).text, 'utf8');
      outHeaders['content-type'] = `${mime || 'text/html'}; charset=utf-8`;
    }
    outHeaders['content-length'] = String(body.byteLength);
    const total = body.byteLength;
    return {
      url: res.url,
      redirectUrls: res.redirects.map((u) => new URL(u)),
      statusCode: res.status,
      headers: outHeaders,
      trailers: {},
      complete: true,
      request,
      stream: Readable.from([body]),
      downloadProgress: { percent: 100, transferred: total, total },
      uploadProgress: { percent: 100, transferred: 0 },
    };
  }
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [LogLevel.ERROR]: 'error',
  [LogLevel.SOFT_FAIL]: 'warn',
  [LogLevel.WARNING]: 'warn',
  [LogLevel.INFO]: 'debug',
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.PERF]: 'debug',
};

class PinoBridge extends CrawleeLogger {
  constructor(private readonly pino: Logger) {
    super({});
  }

  override _log(level: LogLevel, message: string, data?: unknown, exception?: unknown): void {
    const method = LEVELS[level] ?? 'debug';
    const fields: Record<string, unknown> = { component: 'crawlee' };
    if (data && typeof data === 'object') Object.assign(fields, data);
    if (exception) fields.err = exception instanceof Error ? exception.message : String(exception);
    this.pino[method](fields, message);
  }
}

/** A Crawlee Log that writes to pino; Crawlee's info chatter becomes debug. Also quiets Crawlee's global log. */
export function crawleeLogFor(logger: Logger): Log {
  const bridge = new PinoBridge(logger);
  crawleeGlobalLog.setOptions({ logger: bridge, level: LogLevel.WARNING });
  return new Log({ logger: bridge, level: LogLevel.INFO });
}

/** A fresh in-memory Crawlee configuration: no ./storage folder, no queue shared with other crawlers. */
export function ephemeralCrawleeConfig(): Configuration {
  return new Configuration({ persistStorage: false, purgeOnStart: true, availableMemoryRatio: 0.5 });
}

/** Not needed to read a page's text, and the bulk of its bytes. */
const SKIPPED_RESOURCES = new Set(['image', 'media', 'font', 'texttrack', 'manifest', 'ping', 'eventsource', 'websocket']);
/** Request headers the fetch layer sets itself (it decodes gzip / deflate / br only, so the browser's zstd must not be offered). */
const OWN_REQUEST_HEADERS = /^(:|host$|connection$|content-length$|accept-encoding$|keep-alive$|transfer-encoding$)/i;
/** Response headers that describe the wire, not the (decompressed, complete) body handed to Chromium. */
const WIRE_RESPONSE_HEADERS = /^(content-encoding|content-length|transfer-encoding|connection|keep-alive|set-cookie)$/i;
/** A script's or stylesheet's 404 is the page's business, handed to it as is; 5xx, 408 and 429 go through the fetch layer's retries. */
const PASSED_TO_PAGE = Array.from({ length: 100 }, (_, i) => 400 + i).filter((s) => s !== 408 && s !== 425 && s !== 429);

export interface BrowserRouteOptions {
  userAgent?: string;
  proxy?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  log: Logger;
  /** The page's own document could not be fetched (too large, 404, redirect loop…): the error with its URL. */
  onDocumentError: (error: unknown) => void;
}

/**
 * Makes Chromium fetch nothing itself: every request of `page` goes through the fetch layer, so a
 * rendered page obeys the same per-host concurrency and pacing (shared with static fetches and other
 * sources), body cap, proxy, retries and redirect rules as a static one. Images, media and fonts are
 * refused, as are frames other than the page's own: only the page's text is kept.
 *
 * A redirect is answered to Chromium as a redirect, so the page's URL (and relative links) are the
 * final ones; the final response, already fetched, is kept for the browser's follow-up request.
 */
/** A service worker's request has no frame (Playwright throws): it is not the page's own document. */
function frameOf(request: Request): Frame | undefined {
  try {
    return request.frame();
  } catch {
    return undefined;
  }
}

export async function routeThroughFetchLayer(page: Page, http: HttpClient, options: BrowserRouteOptions): Promise<void> {
  const fetched = new Map<string, FetchResponse>();
  await page.route('**/*', async (route) => {
    const request = route.request();
    const type = request.resourceType();
    const ownDocument = request.isNavigationRequest() && frameOf(request) === page.mainFrame();
    const method = request.method();
    if (SKIPPED_RESOURCES.has(type) || (type === 'document' && !ownDocument) || (method !== 'GET' && method !== 'POST')) {
      return route.abort('blockedbyclient').catch(() => undefined);
    }
    const url = request.url();
    let res = fetched.get(url);
    fetched.delete(url);
    if (!res) {
      try {
        const headers: Record<string, string> = { ...(options.headers ?? {}) };
        for (const [k, v] of Object.entries(await request.allHeaders())) if (!OWN_REQUEST_HEADERS.test(k)) headers[k] = v;
        const body = request.postData();
        res = await http.fetch(url, {
          method,
          headers,
          ...(body !== null && method === 'POST' ? { body } : {}),
          ...(ownDocument ? {} : { passStatuses: PASSED_TO_PAGE }),
          ...(options.userAgent ? { userAgent: options.userAgent } : {}),
          ...(options.proxy ? { proxy: options.proxy } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        if (ownDocument) options.onDocumentError(err);
        else options.log.debug({ url, type, code: errorCode(err), err: errorMessage(err) }, 'page resource refused');
        return route.abort('failed').catch(() => undefined);
      }
      if (res.url !== url) {
        fetched.set(res.url, res);
        return route.fulfill({ status: 302, headers: { location: res.url } }).catch(() => undefined);
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (!WIRE_RESPONSE_HEADERS.test(k)) headers[k] = v;
    // Playwright splits a fulfilled header's value on newlines into several headers.
    if (res.setCookies.length) headers['set-cookie'] = res.setCookies.join('\n');
    return route.fulfill({ status: res.status, headers, body: res.body }).catch(() => undefined);
  });
}
