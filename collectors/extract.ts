import { load, type CheerioAPI } from 'cheerio';
import type { ArticleSelectors } from './config';
import { parseChineseTime, type TimeContext } from './document';
import { CollectError } from './errors';
import { htmlToText, nodesToText, normaliseText, sanitizeArticleHtml } from './html';

/**
 * Article extraction for news pages: configured CSS selectors first, then a generic fallback in the
 * manner of readability (score paragraphs by their text and Chinese punctuation, credit their
 * containers, penalise link-heavy blocks) for the body, and the usual places for title, time,
 * 来源 and author.
 */

export interface ExtractedArticle {
  title: string;
  text: string;
  /** Sanitised body, only when asked for. */
  html?: string;
  published_at?: string;
  author?: string;
  /** The outlet of the 来源 line ("新华网"). */
  outlet?: string;
}

type Sel = ReturnType<CheerioAPI>;

const NOISE = [
  'script', 'style', 'noscript', 'iframe', 'form', 'nav', 'footer', 'aside', 'button', 'select', 'textarea', 'template', 'svg',
  '[class*="comment"]', '[id*="comment"]', '[class*="share"]', '[class*="footer"]', '[id*="footer"]', '[class*="sidebar"]',
  '[class*="breadcrumb"]', '[class*="recommend"]', '[class*="related"]', '[class*="copyright"]', '[class*="advert"]', '[class*="nav"]',
  '[style*="display:none"]', '[style*="display: none"]',
].join(', ');

const TIME_META = [
  'meta[property="article:published_time"]', 'meta[name="article:published_time"]', 'meta[property="og:release_date"]',
  'meta[name="pubdate"]', 'meta[name="PubDate"]', 'meta[name="publishdate"]', 'meta[name="publish_time"]', 'meta[name="publishtime"]',
  'meta[itemprop="datePublished"]', 'meta[name="dc.date"]', 'meta[name="DC.date"]', 'meta[name="weibo: article:create_at"]',
];

const SOURCE_LINE = /来源\s*[：:]\s*([^\s|｜<>　，,。]{2,30})/;
const AUTHOR_LINE = /(?:作者|记者|撰文|撰稿|文\s*[/／])\s*[：:]?\s*([\u4e00-\u9fa5·]{2,6}(?:[ 、，,][\u4e00-\u9fa5·]{2,4}){0,3})/;

function first(...values: Array<string | undefined>): string | undefined {
  for (const v of values) {
    const t = v?.replace(/\s+/g, ' ').trim();
    if (t) return t;
  }
  return undefined;
}

function selectText($: CheerioAPI, selector: string | undefined): string | undefined {
  if (!selector) return undefined;
  const el = $(selector).first();
  if (el.length === 0) return undefined;
  return first(el.attr('content'), el.attr('datetime'), el.text());
}

function extractTitle($: CheerioAPI, selectors: ArticleSelectors): string | undefined {
  const configured = selectText($, selectors.title);
  if (configured) return configured;
  const h1 = $('h1')
    .toArray()
    .map((el) => normaliseText($(el).text()).replace(/\n/g, ' '))
    .find((t) => t.length >= 4);
  const doc = $('title').first().text().trim();
  // "标题_新闻频道_某某网" → "标题"
  const fromTitle = doc.split(/\s*[_|｜]\s*|\s+[-—－]\s+/)[0]?.trim();
  return first($('meta[property="og:title"]').attr('content'), h1, fromTitle, doc);
}

function parseFirst(candidates: Array<string | undefined>, time: TimeContext): string | undefined {
  for (const c of candidates) {
    const parsed = parseChineseTime(c, time);
    if (parsed) return parsed;
  }
  return undefined;
}

/** Short elements that look like an article's info line (time, 来源, author). */
function infoLines($: CheerioAPI): string[] {
  return $('[class*="time"], [class*="date"], [class*="info"], [class*="source"], [class*="pub"], [id*="time"], [id*="date"], [id*="info"], [id*="source"], [id*="pub"], time')
    .toArray()
    .map((el) => normaliseText($(el).text()).replace(/\n/g, ' '))
    .filter((t) => t.length > 0 && t.length < 200);
}

function scoreBody($: CheerioAPI): Sel | undefined {
  const scores = new Map<unknown, { el: Sel; score: number }>();
  const credit = (el: Sel, score: number) => {
    const node = el.get(0);
    if (!node) return;
    const entry = scores.get(node) ?? { el, score: 0 };
    entry.score += score;
    scores.set(node, entry);
  };
  const paragraphs = $('p, pre').toArray();
  for (const p of paragraphs) {
    const text = $(p).text().trim();
    if (text.length < 10) continue;
    const punct = (text.match(/[，。！？；、,.!?;]/g) ?? []).length;
    const score = 1 + punct + Math.min(text.length / 50, 6);
    const parent = $(p).parent();
    credit(parent, score);
    credit(parent.parent(), score / 2);
  }
  // Pages that write paragraphs as text separated by <br> inside one div.
  for (const div of $('div, td').toArray()) {
    const own = $(div)
      .contents()
      .toArray()
      .filter((n) => n.type === 'text')
      .map((n) => (n as { data?: string }).data ?? '')
      .join('')
      .trim();
    if (own.length >= 60) credit($(div), 1 + (own.match(/[，。！？；]/g) ?? []).length + Math.min(own.length / 50, 6));
  }
  let best: { el: Sel; score: number } | undefined;
  for (const entry of scores.values()) {
    const text = entry.el.text();
    const linkText = entry.el.find('a').text();
    const density = text.length ? linkText.length / text.length : 1;
    const final = entry.score * (1 - Math.min(density, 0.95));
    if (!best || final > best.score) best = { el: entry.el, score: final };
  }
  return best?.el;
}

export interface ExtractOptions {
  selectors: ArticleSelectors;
  time: TimeContext;
  keepHtml?: boolean;
}

/** Extracts an article from a page; throws SB_COLLECT_MALFORMED when there is no title or no body. */
export function extractArticle(html: string, url: string, options: ExtractOptions): ExtractedArticle {
  const $ = load(html);
  const { selectors, time } = options;
  const title = extractTitle($, selectors);
  const infos = infoLines($);

  const metaTime = TIME_META.map((s) => $(s).attr('content'));
  const published_at = parseFirst(
    [
      selectText($, selectors.time),
      ...metaTime,
      $('time[datetime]').attr('datetime'),
      ...infos.filter((t) => /发布|时间|日期|\d{4}/.test(t)),
      // Last resort: the first full date written near the top of the body text.
      /(?:发布时间|发表时间|时间|日期)[：:]\s*([^\n]{8,30})/.exec(htmlToText($('body').html() ?? ''))?.[1],
    ],
    time,
  );

  const infoText = infos.join('\n');
  const outlet = first(
    selectText($, selectors.source)?.replace(/^来源\s*[：:]\s*/, ''),
    SOURCE_LINE.exec(infoText)?.[1],
    $('meta[name="source"]').attr('content'),
  );
  const author = first(
    selectText($, selectors.author)?.replace(/^(?:作者|记者)\s*[：:]\s*/, ''),
    AUTHOR_LINE.exec(infoText)?.[1],
    $('meta[name="author"]').attr('content'),
  );

  const configuredBody = selectors.body ? $(selectors.body).first() : undefined;
  let body: Sel | undefined = configuredBody && configuredBody.length > 0 ? configuredBody : undefined;
  if (!body) {
    $(NOISE).remove();
    body = scoreBody($);
  }
  if (body) {
    for (const s of selectors.remove) body.find(s).remove();
    body.find('script, style, noscript, iframe, [style*="display:none"], [style*="display: none"]').remove();
  }
  const text = body ? nodesToText(body.toArray() as Parameters<typeof nodesToText>[0]) : '';
  const fullText = text || '';
  // A body found by the generic fallback that also catches the info line: the 来源 line may sit inside.
  const outletFromBody = outlet ?? SOURCE_LINE.exec(fullText.slice(0, 300))?.[1];

  const missing = [!title ? 'title' : undefined, fullText.length < 10 ? 'body text' : undefined].filter(Boolean);
  if (missing.length > 0) throw new CollectError('SB_COLLECT_MALFORMED', `article page without ${missing.join(' and ')}`, { url });

  return {
    title: title!,
    text: fullText,
    ...(options.keepHtml && body ? { html: sanitizeArticleHtml($.html(body), url) } : {}),
    ...(published_at ? { published_at } : {}),
    ...(author ? { author } : {}),
    ...(outletFromBody ? { outlet: outletFromBody } : {}),
  };
}
