import { formatIsoInZone } from '../../core/time';
import { canonicalUrl, documentIdForUrl, parseChineseTime, tierFromOutlet } from '../document';
import type { RssSourceConfig } from '../config';
import { CollectError } from '../errors';
import { extractArticle, type ExtractedArticle } from '../extract';
import { htmlToText, sanitizeArticleHtml } from '../html';
import type { Collector, CollectorDeps, RunContext } from '../types';
import { parseFeed } from './feed';
import { fetchOptionsFor } from './shared';

/**
 * RSS 2.0 and Atom feeds: conditional GET (ETag / Last-Modified, so an unchanged feed costs one
 * 304), any charset, and the linked article fetched when the feed carries only a summary.
 */
export class RssCollector implements Collector {
  readonly platform = 'rss' as const;

  constructor(
    readonly source: RssSourceConfig,
    private readonly deps: CollectorDeps,
  ) {}

  async run(ctx: RunContext): Promise<void> {
    const { source } = this;
    const http = this.deps.http;
    const validators = ctx.validators(source.url);
    const res = await http.fetch(source.url, {
      ...fetchOptionsFor(source, ctx.signal),
      ...(validators.etag ? { etag: validators.etag } : {}),
      ...(validators.last_modified ? { lastModified: validators.last_modified } : {}),
    });
    if (res.notModified) {
      ctx.log.debug({ url: source.url }, 'feed not modified');
      return;
    }
    const feed = await parseFeed(res.body, res.headers['content-type'], source.url, source.encoding);
    const fetchedAt = formatIsoInZone(ctx.now, ctx.timeZone);

    let stoppedEarly = false;
    for (const item of feed.items) {
      if (ctx.full || ctx.signal.aborted) {
        stoppedEarly = true;
        break;
      }
      const link = item.link ? canonicalUrl(item.link, res.url) : item.guid ? canonicalUrl(item.guid, res.url) : undefined;
      if (!link) {
        ctx.pageFailed(source.url, new CollectError('SB_COLLECT_MALFORMED', `feed item "${item.title.slice(0, 40)}" has no usable link`, { url: source.url }));
        continue;
      }
      const id = documentIdForUrl(link);
      if (ctx.isSeen(id)) continue;

      let text = htmlToText(item.html);
      let html = source.keep_html && item.html ? sanitizeArticleHtml(item.html, link) : undefined;
      let article: ExtractedArticle | undefined;
      const wantFull = source.full_article === 'always' || (source.full_article === 'when_summary' && text.length < source.summary_max_chars);
      if (wantFull) {
        try {
          const page = await http.fetch(link, fetchOptionsFor(source, ctx.signal));
          article = extractArticle(page.text().text, page.url, {
            selectors: source.article,
            time: { now: ctx.now, timeZone: ctx.timeZone },
            keepHtml: source.keep_html,
          });
          if (article.text.length > text.length) {
            text = article.text;
            if (article.html) html = article.html;
          }
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          // The feed's own summary is still a whole document; the article page is logged and counted.
          ctx.pageFailed(link, err);
        }
      }
      const title = item.title ? htmlToText(item.title) : (article?.title ?? '');
      if (!title && !text) {
        ctx.pageFailed(link, new CollectError('SB_COLLECT_MALFORMED', 'feed item with neither title nor text', { url: link }));
        continue;
      }
      const author = item.author ?? article?.author ?? article?.outlet;
      const tier = source.author_tier ?? tierFromOutlet(article?.outlet);
      await ctx.emit({
        id,
        platform: 'rss',
        source: source.name,
        url: link,
        title: title.slice(0, 1000),
        text,
        ...(html ? { html } : {}),
        ...(author ? { author: author.slice(0, 200) } : {}),
        published_at: parseChineseTime(item.date, ctx) ?? article?.published_at ?? fetchedAt,
        fetched_at: fetchedAt,
        ...(tier ? { author_tier: tier } : {}),
        lang: source.lang,
      });
    }
    // A round cut short by max_items_per_run must see the same feed again next time, not a 304.
    if (stoppedEarly) return;
    ctx.setValidators(source.url, {
      ...(res.headers.etag ? { etag: res.headers.etag } : {}),
      ...(res.headers['last-modified'] ? { last_modified: res.headers['last-modified'] } : {}),
    });
  }

  async close(): Promise<void> {}
}
