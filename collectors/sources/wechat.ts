import { load } from 'cheerio';
import type { WechatListConfig, WechatSourceConfig } from '../config';
import { formatIsoInZone } from '../../core/time';
import { canonicalUrl, documentIdForUrl, parseChineseTime } from '../document';
import { CollectError, isBlocked } from '../errors';
import { nodesToText, sanitizeArticleHtml } from '../html';
import type { Collector, CollectorDeps, RunContext } from '../types';
import { parseFeed } from './feed';
import { fetchOptionsFor } from './shared';

/**
 * WeChat public accounts: article lists from pluggable list sources (an RSS bridge such as RSSHub
 * or wewe-rss, or Sogou WeChat search), then each article page parsed: title, account, author,
 * `var ct` publish time, the `#js_content` body with lazy images. Deleted articles are reported and
 * not fetched again; "环境异常" and captcha pages are a block.
 */

export interface ListedArticle {
  url: string;
  title?: string;
  account?: string;
  date?: string;
}

export interface WechatArticle {
  url: string;
  title: string;
  account?: string;
  author?: string;
  published_at?: string;
  text: string;
  html?: string;
}

const DELETED = /该内容已被发布者删除|已被发布者删除|此内容因违规无法查看|此内容被多人投诉|该公众号已迁移|此内容已被删除|内容已删除/;
const BLOCKED = /环境异常|完成验证后即可继续访问|wappoc_appmsgcaptcha|请输入验证码|antispider/;

function scriptVar(html: string, name: string): string | undefined {
  // var ct = "1710913200"; var nickname = htmlDecode("新华社"); var msg_title = '…'.html(false);
  const re = new RegExp(`var\\s+${name}\\s*=\\s*(?:htmlDecode\\()?\\s*(?:"([^"]*)"|'([^']*)')`);
  const m = re.exec(html);
  const v = m?.[1] ?? m?.[2];
  return v ? v : undefined;
}

function cgiField(html: string, name: string): string | undefined {
  // window.cgiDataNew = { …, create_time: '1710913200', nick_name: JsDecode('新华社'), title: JsDecode('…') }
  const re = new RegExp(`\\b${name}\\s*:\\s*(?:JsDecode\\()?\\s*(?:'([^']*)'|"([^"]*)")`);
  const m = re.exec(html);
  const v = m?.[1] ?? m?.[2];
  return v ? v : undefined;
}

function decodeJsString(s: string): string {
  return s
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** Parses an article page; throws SB_COLLECT_DELETED, SB_COLLECT_BLOCKED or SB_COLLECT_MALFORMED. */
export function parseWechatArticle(html: string, url: string, options: { now: Date; timeZone: string; keepHtml?: boolean; listed?: ListedArticle }): WechatArticle {
  const $ = load(html);
  const visible = $('body').text();
  const hasBody = $('#js_content').length > 0;
  if (!hasBody && DELETED.test(visible)) throw new CollectError('SB_COLLECT_DELETED', 'article deleted by its publisher or removed', { url });
  if (!hasBody && (BLOCKED.test(visible) || BLOCKED.test(url))) throw new CollectError('SB_COLLECT_BLOCKED', 'WeChat shows "环境异常" / a captcha instead of the article', { url });

  const msgLink = scriptVar(html, 'msg_link');
  const biz = scriptVar(html, 'biz') ?? cgiField(html, 'biz');
  const mid = scriptVar(html, 'mid') ?? cgiField(html, 'mid');
  const idx = scriptVar(html, 'idx') ?? cgiField(html, 'idx');
  const sn = scriptVar(html, 'sn') ?? cgiField(html, 'sn');
  const fromVars = biz && mid && idx && sn ? `https://mp.weixin.qq.com/s?__biz=${encodeURIComponent(biz)}&mid=${mid}&idx=${idx}&sn=${sn}` : undefined;
  const canonical = canonicalUrl(msgLink ? decodeJsString(msgLink) : (fromVars ?? url)) ?? canonicalUrl(url) ?? url;

  const title = (
    $('meta[property="og:title"]').attr('content') ??
    ($('#activity-name').text().trim() || undefined) ??
    (cgiField(html, 'title') ? decodeJsString(cgiField(html, 'title')!) : undefined) ??
    scriptVar(html, 'msg_title') ??
    options.listed?.title ??
    ''
  ).trim();
  const account =
    $('#js_name').text().trim() ||
    (scriptVar(html, 'nickname') ? decodeJsString(scriptVar(html, 'nickname')!) : undefined) ||
    (cgiField(html, 'nick_name') ? decodeJsString(cgiField(html, 'nick_name')!) : undefined) ||
    options.listed?.account;
  const author = $('meta[name="author"]').attr('content')?.trim() || $('#js_author_name').text().trim() || undefined;
  const ct = scriptVar(html, 'ct') ?? cgiField(html, 'create_time');
  const published_at =
    parseChineseTime(ct, options) ?? parseChineseTime($('#publish_time').text(), options) ?? parseChineseTime(options.listed?.date, options);

  const content = $('#js_content').first();
  if (content.length === 0) throw new CollectError('SB_COLLECT_MALFORMED', 'no #js_content in the article page', { url });
  content.removeAttr('style');
  content.find('script, style, [style*="display:none"], [style*="display: none"]').remove();
  const text = nodesToText(content.toArray() as Parameters<typeof nodesToText>[0]);
  if (!title) throw new CollectError('SB_COLLECT_MALFORMED', 'article without a title', { url });
  if (text.length === 0 && content.find('img').length === 0) throw new CollectError('SB_COLLECT_MALFORMED', 'article with an empty body', { url });

  return {
    url: canonical,
    title,
    ...(account ? { account } : {}),
    ...(author ? { author } : {}),
    ...(published_at ? { published_at } : {}),
    text,
    ...(options.keepHtml ? { html: sanitizeArticleHtml($.html(content), canonical) } : {}),
  };
}

/** Sogou's /link?url=… answers a script that builds the real URL in pieces: url += '…'. */
export function sogouRedirectTarget(html: string): string | undefined {
  const pieces = [...html.matchAll(/url\s*\+=\s*'([^']*)'/g)].map((m) => m[1]);
  if (pieces.length > 0) return pieces.join('').replace('@', '');
  const replace = /location\.(?:replace|href)\s*\(?\s*=?\s*["']([^"']+)["']/.exec(html);
  if (replace) return replace[1];
  const refresh = /<meta[^>]+http-equiv=["']?refresh["']?[^>]+url=([^"'>]+)/i.exec(html);
  return refresh?.[1];
}

/** Article entries of a Sogou WeChat search result page. */
export function parseSogouList(html: string, pageUrl: string): ListedArticle[] {
  const $ = load(html);
  const out: ListedArticle[] = [];
  $('ul.news-list > li, .news-list li').each((_, li) => {
    const a = $(li).find('.txt-box h3 a, h3 a').first();
    const href = a.attr('href');
    if (!href) return;
    const url = new URL(href, pageUrl).href;
    const account = $(li).find('.s-p .account, a.account, .all-time-y2').first().text().trim() || undefined;
    const stamp = $(li).find('.s-p').attr('t') ?? /timeConvert\('(\d+)'\)/.exec($(li).find('.s2').html() ?? '')?.[1];
    const title = a.text().trim();
    out.push({ url, ...(title ? { title } : {}), ...(account ? { account } : {}), ...(stamp ? { date: stamp } : {}) });
  });
  return out;
}

interface Tally {
  listsOk: number;
  listsFailed: number;
  articlesOk: number;
  articlesFailed: number;
  last?: unknown;
}

export class WechatCollector implements Collector {
  readonly platform = 'wechat' as const;

  constructor(
    readonly source: WechatSourceConfig,
    private readonly deps: CollectorDeps,
  ) {}

  async run(ctx: RunContext): Promise<void> {
    const tally: Tally = { listsOk: 0, listsFailed: 0, articlesOk: 0, articlesFailed: 0 };
    for (const list of this.source.lists) {
      if (ctx.full || ctx.signal.aborted) break;
      let entries: ListedArticle[];
      try {
        entries = await this.#list(ctx, list);
        tally.listsOk++;
      } catch (err) {
        if (isBlocked(err) || ctx.signal.aborted) throw err;
        tally.listsFailed++;
        tally.last = err;
        ctx.pageFailed(list.kind === 'rss' ? list.url : `${list.base_url} (${list.query})`, err);
        continue;
      }
      for (const entry of entries) {
        if (ctx.full || ctx.signal.aborted) break;
        const listedId = documentIdForUrl(entry.url);
        if (ctx.isSeen(listedId)) continue;
        try {
          const outcome = await this.#article(ctx, entry, list);
          // The list's URL form (a /s/ short link, a Sogou link) is done once its canonical article is.
          if (outcome !== 'rejected') ctx.skip(listedId);
          tally.articlesOk++;
        } catch (err) {
          if (isBlocked(err) || ctx.signal.aborted) throw err;
          ctx.pageFailed(entry.url, err);
          if (err instanceof CollectError && err.code === 'SB_COLLECT_DELETED') {
            ctx.skip(listedId);
            continue;
          }
          tally.articlesFailed++;
          tally.last = err;
        }
      }
    }
    if (tally.listsOk === 0 && tally.listsFailed > 0) throw roundError(tally.last, 'no article list could be read');
    if (tally.articlesOk === 0 && tally.articlesFailed > 0) throw roundError(tally.last, `all ${tally.articlesFailed} articles failed`);
  }

  async close(): Promise<void> {}

  async #list(ctx: RunContext, list: WechatListConfig): Promise<ListedArticle[]> {
    const http = this.deps.http;
    if (list.kind === 'rss') {
      const res = await http.fetch(list.url, fetchOptionsFor(this.source, ctx.signal));
      const feed = await parseFeed(res.body, res.headers['content-type'], list.url);
      const account = list.account ?? feed.title;
      return feed.items
        .filter((i) => i.link)
        .map((i) => ({ url: new URL(i.link!, res.url).href, title: i.title, ...(account ? { account } : {}), ...(i.date ? { date: i.date } : {}) }));
    }
    const out: ListedArticle[] = [];
    for (let page = 1; page <= list.pages; page++) {
      const url = `${list.base_url.replace(/\/$/, '')}/weixin?type=2&query=${encodeURIComponent(list.query)}&ie=utf8&page=${page}`;
      const res = await http.fetch(url, fetchOptionsFor(this.source, ctx.signal));
      const html = res.text().text;
      if (/antispider/.test(res.url) || (!/news-list/.test(html) && BLOCKED.test(html))) {
        throw new CollectError('SB_COLLECT_BLOCKED', 'Sogou WeChat search shows its anti-spider captcha', { url });
      }
      const entries = parseSogouList(html, res.url);
      if (entries.length === 0) break;
      out.push(...entries);
    }
    return out;
  }

  /** Fetches and emits one article. */
  async #article(ctx: RunContext, entry: ListedArticle, list: WechatListConfig): Promise<'emitted' | 'seen' | 'rejected'> {
    const http = this.deps.http;
    let url = entry.url;
    if (list.kind === 'sogou' && new URL(url).pathname.startsWith('/link')) {
      const hop = await http.fetch(url, fetchOptionsFor(this.source, ctx.signal, { headers: { referer: `${list.base_url}/` } }));
      if (/antispider/.test(hop.url)) throw new CollectError('SB_COLLECT_BLOCKED', 'Sogou WeChat link shows its anti-spider captcha', { url });
      const target = hop.url.includes('mp.weixin.qq.com') ? hop.url : sogouRedirectTarget(hop.text().text);
      if (!target) throw new CollectError('SB_COLLECT_MALFORMED', 'Sogou link page without a target URL', { url });
      url = new URL(target, hop.url).href;
    }
    const res = await http.fetch(url, fetchOptionsFor(this.source, ctx.signal));
    const article = parseWechatArticle(res.text().text, res.url, { now: ctx.now, timeZone: ctx.timeZone, keepHtml: this.source.keep_html, listed: entry });
    const id = documentIdForUrl(article.url);
    if (ctx.isSeen(id)) return 'seen';
    const fetchedAt = formatIsoInZone(ctx.now, ctx.timeZone);
    const accepted = await ctx.emit({
      id,
      platform: 'wechat',
      source: this.source.name,
      url: article.url,
      title: article.title.slice(0, 1000),
      text: article.text,
      ...(article.html ? { html: article.html } : {}),
      // The account publishes; a named author inside it is kept when there is one.
      ...(article.author || article.account ? { author: (article.author ?? article.account)!.slice(0, 200) } : {}),
      published_at: article.published_at ?? fetchedAt,
      fetched_at: fetchedAt,
      ...(this.source.author_tier ? { author_tier: this.source.author_tier } : {}),
      lang: this.source.lang,
    });
    return accepted ? 'emitted' : 'rejected';
  }
}

function roundError(last: unknown, summary: string): CollectError {
  if (last instanceof CollectError) return new CollectError(last.code, `${summary}; last: ${last.message}`, { cause: last, ...(last.url ? { url: last.url } : {}) });
  return new CollectError('SB_COLLECT_FETCH_FAILED', summary, { cause: last });
}
