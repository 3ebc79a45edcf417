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
import type { Logger } from '../core/logger';
import type { HttpClient } from './http';

/**
 * Crawlee plumbing: Crawlee's plain-HTTP crawlers fetch through Shaobing's fetch layer (so the
 * per-host limits, body cap, redirect rules and charset detection apply to them too), Crawlee's own
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
