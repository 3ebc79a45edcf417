import { CheerioCrawler, type CheerioCrawlingContext } from '@crawlee/cheerio';
import { PlaywrightCrawler, type PlaywrightCrawlingContext } from '@crawlee/playwright';
import { load } from 'cheerio';
import { chromium } from 'playwright-core';
import type { NewsSourceConfig } from '../config';
import { crawleeLogFor, ephemeralCrawleeConfig, routeThroughFetchLayer, ShaobingHttpClient } from '../crawlee';
import { CHROMIUM_ARGS } from '../../core/chromium';
import { formatIsoInZone } from '../../core/time';
import { canonicalUrl, documentIdForUrl, tierFromOutlet } from '../document';
import { CollectError, errorCode } from '../errors';
import { extractArticle } from '../extract';
import type { Collector, CollectorDeps, RunContext } from '../types';

/**
 * News sites: list pages → article links (configured selector, or discovered) → articles extracted
 * by configured selectors with a generic fallback. Static pages go through Crawlee's CheerioCrawler
 * on Shaobing's fetch layer; `render: true` pages through Crawlee's PlaywrightCrawler driving the
 * system Chromium (playwright-core, no bundled browser).
 */

export { CHROMIUM_ARGS };

const LIST = 'list';
const ARTICLE = 'article';

/** Second-level suffixes under which the registrable name has three labels (xinhuanet.com vs people.com.cn). */
const TWO_LEVEL_SUFFIXES = /\.(com|net|org|gov|edu|ac|mil)\.(cn|hk|tw)$/;

export function siteOf(host: string): string {
  const labels = host.toLowerCase().split('.');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  return labels.slice(TWO_LEVEL_SUFFIXES.test(host) ? -3 : -2).join('.');
}

/** Does the link look like an article rather than a channel, tag or index page? */
function looksLikeArticle(url: URL, text: string): boolean {
  const path = url.pathname;
  if (path === '/' || /\/(index\.s?html?)?$/.test(path)) return false;
  const articleish =
    /\d{4}[-/]?\d{2}[-/]?\d{2}|\/t\d{8}_|\d{5,}/.test(path) ||
    /\.(s?html?|php|aspx?)$/.test(path) ||
    /[?&](id|aid|articleid|docid|newsid|contentid)=\w+/i.test(url.search);
  return articleish && [...text].length >= 6;
}

export interface LinkOptions {
  selector?: string;
  pattern?: string;
  sameSite: boolean;
  max: number;
}

/** Article links of a list page, canonical, deduplicated, in page order. */
export function articleLinks(html: string, pageUrl: string, options: LinkOptions): string[] {
  const $ = load(html);
  const baseHref = $('base[href]').attr('href');
  const base = baseHref ? new URL(baseHref, pageUrl).href : pageUrl;
  const pattern = options.pattern ? new RegExp(options.pattern) : undefined;
  const site = siteOf(new URL(pageUrl).hostname);
  const anchors = options.selector ? $(options.selector).toArray().flatMap((el) => ($(el).is('a') ? [el] : $(el).find('a[href]').toArray())) : $('a[href]').toArray();
  const out: string[] = [];
  const seen = new Set<string>([canonicalUrl(pageUrl) ?? pageUrl]);
  for (const a of anchors) {
    const href = $(a).attr('href');
    if (!href || /^(javascript|mailto|tel):/i.test(href.trim())) continue;
    const canonical = canonicalUrl(href, base);
    if (!canonical || seen.has(canonical)) continue;
    const url = new URL(canonical);
    if (options.sameSite && siteOf(url.hostname) !== site) continue;
    if (pattern && !pattern.test(canonical)) continue;
    if (!options.selector && !pattern && !looksLikeArticle(url, $(a).text().trim())) continue;
    seen.add(canonical);
    out.push(canonical);
    if (out.length >= options.max) break;
  }
  return out;
}

interface RoundTally {
  listOk: number;
  listFailed: number;
  articlesOk: number;
  articlesFailed: number;
  lastError?: unknown;
  enqueued: number;
}

export class NewsCollector implements Collector {
  readonly platform = 'news' as const;

  constructor(
    readonly source: NewsSourceConfig,
    private readonly deps: CollectorDeps,
  ) {}

  async run(ctx: RunContext): Promise<void> {
    const tally: RoundTally = { listOk: 0, listFailed: 0, articlesOk: 0, articlesFailed: 0, enqueued: 0 };
    const handle = async (kind: string, url: string, html: string, enqueue: (urls: string[]) => Promise<void>) => {
      if (kind === LIST) {
        const links = articleLinks(html, url, {
          ...(this.source.links.selector ? { selector: this.source.links.selector } : {}),
          ...(this.source.links.pattern ? { pattern: this.source.links.pattern } : {}),
          sameSite: this.source.links.same_site,
          max: this.source.links.max_per_list,
        });
        tally.listOk++;
        const fresh = links.filter((l) => !ctx.isSeen(documentIdForUrl(l)));
        const room = Math.max(0, this.source.max_items_per_run - tally.enqueued);
        const take = fresh.slice(0, room);
        tally.enqueued += take.length;
        ctx.log.debug({ url, links: links.length, fresh: fresh.length, queued: take.length }, 'list page read');
        await enqueue(take);
        return;
      }
      await this.#emitArticle(ctx, url, html);
      tally.articlesOk++;
    };
    const failed = (kind: string, url: string, error: unknown) => {
      if (kind === LIST) tally.listFailed++;
      else tally.articlesFailed++;
      tally.lastError = error;
      ctx.pageFailed(url, error);
    };

    if (this.source.render) await this.#runRendered(ctx, handle, failed);
    else await this.#runStatic(ctx, handle, failed);
    if (ctx.signal.aborted) return;

    if (tally.listOk === 0) throw roundError(tally.lastError, 'no list page could be read');
    if (tally.articlesOk === 0 && tally.articlesFailed > 0) throw roundError(tally.lastError, `all ${tally.articlesFailed} article pages failed`);
  }

  async #emitArticle(ctx: RunContext, url: string, html: string): Promise<void> {
    const article = extractArticle(html, url, { selectors: this.source.article, time: ctx, keepHtml: this.source.keep_html });
    const fetchedAt = formatIsoInZone(ctx.now, ctx.timeZone);
    const author = article.author ?? article.outlet;
    const tier = this.source.author_tier ?? tierFromOutlet(article.outlet);
    if (!article.published_at) ctx.log.debug({ url }, 'no publish time found; using the fetch time');
    await ctx.emit({
      id: documentIdForUrl(url),
      platform: 'news',
      source: this.source.name,
      url,
      title: article.title.slice(0, 1000),
      text: article.text,
      ...(article.html ? { html: article.html } : {}),
      ...(author ? { author: author.slice(0, 200) } : {}),
      published_at: article.published_at ?? fetchedAt,
      fetched_at: fetchedAt,
      ...(tier ? { author_tier: tier } : {}),
      lang: this.source.lang,
    });
  }

  async #runStatic(
    ctx: RunContext,
    handle: (kind: string, url: string, html: string, enqueue: (urls: string[]) => Promise<void>) => Promise<void>,
    failed: (kind: string, url: string, error: unknown) => void,
  ): Promise<void> {
    const http = this.deps.http;
    const s = this.source;
    const crawler = new CheerioCrawler(
      {
        httpClient: new ShaobingHttpClient(http, {
          ...(s.encoding ? { encoding: s.encoding } : {}),
          ...(s.http.user_agent ? { userAgent: s.http.user_agent } : {}),
          ...(s.http.proxy ? { proxy: s.http.proxy } : {}),
          ...(s.http.headers ? { headers: s.http.headers } : {}),
          ...(s.http.timeout_ms ? { timeoutMs: s.http.timeout_ms } : {}),
        }),
        log: crawleeLogFor(ctx.log),
        // Retries with backoff happen in the fetch layer; Crawlee tries each page once.
        maxRequestRetries: 0,
        useSessionPool: false,
        persistCookiesPerSession: false,
        // Start at full width: the per-host limiter is what bounds the load, not Crawlee's slow ramp-up.
        minConcurrency: http.config.per_host_concurrency,
        maxConcurrency: http.config.per_host_concurrency,
        navigationTimeoutSecs: Math.ceil(((s.http.timeout_ms ?? http.config.timeout_ms) * http.config.max_attempts + http.config.retry_max_delay_ms) / 1000),
        requestHandlerTimeoutSecs: 120,
        statusMessageLoggingInterval: 3600,
        additionalMimeTypes: ['application/octet-stream', 'text/plain'],
        requestHandler: async ({ request, body, addRequests }: CheerioCrawlingContext) => {
          const html = typeof body === 'string' ? body : body.toString('utf8');
          await handle(request.label ?? LIST, request.loadedUrl ?? request.url, html, async (urls) => {
            await addRequests(urls.map((url) => ({ url, label: ARTICLE })));
          });
        },
        failedRequestHandler: async ({ request }, error) => failed(request.label ?? LIST, request.url, unwrap(error)),
      },
      ephemeralCrawleeConfig(),
    );
    await this.#runCrawler(ctx, crawler);
  }

  async #runRendered(
    ctx: RunContext,
    handle: (kind: string, url: string, html: string, enqueue: (urls: string[]) => Promise<void>) => Promise<void>,
    failed: (kind: string, url: string, error: unknown) => void,
  ): Promise<void> {
    const s = this.source;
    const http = this.deps.http;
    const browser = this.deps.collectors.browser;
    const proxy = s.http.proxy ?? http.config.proxy;
    const userAgent = s.http.user_agent ?? http.config.user_agent;
    // Why a page's own document was refused, by Crawlee request: Chromium itself only says net::ERR_FAILED.
    const refused = new Map<string, unknown>();
    const crawler = new PlaywrightCrawler(
      {
        launchContext: {
          launcher: chromium,
          // Chromium fetches nothing itself (routeThroughFetchLayer); the proxy here is for what routing cannot see.
          launchOptions: { executablePath: browser.executable_path, headless: true, args: CHROMIUM_ARGS, ...(proxy ? { proxy: { server: proxy } } : {}) },
          userAgent,
        },
        browserPoolOptions: { useFingerprints: false, maxOpenPagesPerBrowser: browser.max_pages, retireBrowserAfterPageCount: 200 },
        log: crawleeLogFor(ctx.log),
        // Retries with backoff happen in the fetch layer; Crawlee tries each page once.
        maxRequestRetries: 0,
        useSessionPool: false,
        persistCookiesPerSession: false,
        minConcurrency: browser.max_pages,
        maxConcurrency: browser.max_pages,
        navigationTimeoutSecs: Math.ceil(browser.navigation_timeout_ms / 1000),
        requestHandlerTimeoutSecs: Math.ceil(browser.navigation_timeout_ms / 1000) + 30,
        statusMessageLoggingInterval: 3600,
        preNavigationHooks: [
          async ({ page, request }, gotoOptions) => {
            if (gotoOptions) gotoOptions.waitUntil = 'domcontentloaded';
            await routeThroughFetchLayer(page, http, {
              ...(s.http.headers ? { headers: s.http.headers } : {}),
              ...(s.http.user_agent ? { userAgent: s.http.user_agent } : {}),
              ...(s.http.proxy ? { proxy: s.http.proxy } : {}),
              ...(s.http.timeout_ms ? { timeoutMs: s.http.timeout_ms } : {}),
              signal: ctx.signal,
              log: ctx.log,
              onDocumentError: (error) => refused.set(request.uniqueKey, error),
            });
          },
        ],
        requestHandler: async ({ request, page, addRequests }: PlaywrightCrawlingContext) => {
          if (s.wait_for_selector) {
            await page.waitForSelector(s.wait_for_selector, { timeout: browser.navigation_timeout_ms }).catch(() => {
              throw new CollectError('SB_COLLECT_MALFORMED', `"${s.wait_for_selector}" did not appear`, { url: request.url });
            });
          } else {
            await settle(page, Math.min(10_000, browser.navigation_timeout_ms));
          }
          const html = await page.content();
          await handle(request.label ?? LIST, page.url() || request.url, html, async (urls) => {
            await addRequests(urls.map((url) => ({ url, label: ARTICLE })));
          });
        },
        failedRequestHandler: async ({ request }, error) => failed(request.label ?? LIST, request.url, refused.get(request.uniqueKey) ?? unwrap(error)),
      },
      ephemeralCrawleeConfig(),
    );
    await this.#runCrawler(ctx, crawler);
  }

  async #runCrawler(ctx: RunContext, crawler: CheerioCrawler | PlaywrightCrawler): Promise<void> {
    const onAbort = () => void crawler.autoscaledPool?.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await crawler.run(this.source.list_urls.map((url) => ({ url, label: LIST, uniqueKey: `list:${url}` })));
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await crawler.teardown().catch(() => undefined);
    }
  }

  async close(): Promise<void> {}
}

/**
 * Waits until the page's text stops changing (scripts that build the page after load, timers, XHR),
 * checking every 100 ms, for at most `maxMs`.
 */
async function settle(page: PlaywrightCrawlingContext['page'], maxMs: number): Promise<void> {
  await page.waitForLoadState('load', { timeout: maxMs }).catch(() => undefined);
  const deadline = Date.now() + maxMs;
  let last = -1;
  let stable = 0;
  while (Date.now() < deadline && stable < 2) {
    // Runs in the page: `document` is the browser's (this file is compiled without DOM types).
    const length = await page.evaluate('document.body ? document.body.innerText.length : 0').then(Number).catch(() => -1);
    stable = length === last && length > 0 ? stable + 1 : 0;
    last = length;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Crawlee may wrap a handler's error; the CollectError inside carries the code. */
function unwrap(error: unknown): unknown {
  let e = error as { cause?: unknown } | undefined;
  for (let i = 0; i < 3 && e && !(e instanceof CollectError); i++) e = e.cause as typeof e;
  return e instanceof CollectError ? e : error;
}

function roundError(last: unknown, summary: string): CollectError {
  if (last instanceof CollectError) {
    return new CollectError(last.code, `${summary}; last: ${last.message}`, { cause: last, ...(last.url ? { url: last.url } : {}), ...(last.status ? { status: last.status } : {}) });
  }
  return new CollectError('SB_COLLECT_FETCH_FAILED', `${summary}${last ? `; last: ${errorCode(last)} ${(last as Error).message ?? String(last)}` : ''}`, { cause: last });
}
