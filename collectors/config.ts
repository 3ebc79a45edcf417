import { z } from 'zod';
import { AuthorTier } from '../core/records';

/**
 * The `sources:` and `collectors:` sections of shaobing.yaml. Strict like the rest of the file: a
 * typo is an error at load, never a silently ignored key. Defaults live here and nowhere else.
 */

export const DEFAULT_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Shaobing/0.1';
/** Weibo's mobile API answers mobile browsers. */
export const DEFAULT_MOBILE_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1';

const regexString = z.string().min(1).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

const HttpUrl = z.url({ protocol: /^https?$/ });

/** Per-source overrides of the shared HTTP settings. */
const SourceHttpSchema = z.strictObject({
  user_agent: z.string().min(1).optional(),
  /** http://host:port of a proxy for this source only. */
  proxy: HttpUrl.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout_ms: z.number().int().positive().optional(),
});

const common = {
  /** Shown in documents (`source`), logs, metrics and health; unique among sources. */
  name: z.string().min(1).max(100),
  enabled: z.boolean().default(true),
  /** How often a round runs; default collectors.interval_seconds. */
  interval_seconds: z.number().int().min(10).optional(),
  /** Authority hint for every document of this source (central media, a provincial paper…). */
  author_tier: AuthorTier.optional(),
  lang: z.string().min(2).max(20).default('zh'),
  /** Stop a round after this many new documents; the next round continues. */
  max_items_per_run: z.number().int().min(1).max(10_000).default(200),
  /** Emit `html`: the article body sanitised (allow-listed tags, http(s) links and images only). Off by default. */
  keep_html: z.boolean().default(false),
  http: SourceHttpSchema.prefault({}),
};

/** CSS selectors for an article page; each falls back to generic extraction when absent or empty. */
export const ArticleSelectorsSchema = z.strictObject({
  title: z.string().min(1).optional(),
  time: z.string().min(1).optional(),
  /** The 来源 line or element naming the outlet. */
  source: z.string().min(1).optional(),
  author: z.string().min(1).optional(),
  body: z.string().min(1).optional(),
  /** Removed from the body before text is taken (share bars, "相关阅读"). */
  remove: z.array(z.string().min(1)).default([]),
});
export type ArticleSelectors = z.output<typeof ArticleSelectorsSchema>;

const RssSourceSchema = z.strictObject({
  type: z.literal('rss'),
  ...common,
  url: HttpUrl,
  /** Charset to use whatever the feed declares (for feeds that lie). */
  encoding: z.string().min(1).optional(),
  /** Fetch the linked article when the feed carries only a summary. */
  full_article: z.enum(['never', 'when_summary', 'always']).default('when_summary'),
  /** An item whose text is shorter than this counts as a summary. */
  summary_max_chars: z.number().int().min(0).default(200),
  article: ArticleSelectorsSchema.prefault({}),
});

const NewsSourceSchema = z.strictObject({
  type: z.literal('news'),
  ...common,
  /** List pages (channel front pages, 滚动新闻) whose links lead to articles. */
  list_urls: z.array(HttpUrl).min(1),
  /** Load list and article pages in Chromium (for pages built by script); default plain HTTP. */
  render: z.boolean().default(false),
  /** With render: wait for this selector before reading the page. */
  wait_for_selector: z.string().min(1).optional(),
  encoding: z.string().min(1).optional(),
  links: z
    .strictObject({
      /** CSS selector of the article links on a list page; default: discovered (same site, article-like URL and text). */
      selector: z.string().min(1).optional(),
      /** Only links whose URL matches this regular expression. */
      pattern: regexString.optional(),
      /** Only links on the list page's own site (registrable part of the host name). */
      same_site: z.boolean().default(true),
      /** At most this many article links per list page. */
      max_per_list: z.number().int().min(1).max(1000).default(50),
    })
    .prefault({}),
  article: ArticleSelectorsSchema.prefault({}),
});

const WeiboSourceSchema = z
  .strictObject({
    type: z.literal('weibo'),
    ...common,
    /** Real-time search (实时) for each keyword. */
    keywords: z.array(z.string().min(1)).default([]),
    /** User ids whose timelines are read. */
    users: z.array(z.string().regex(/^\d{5,12}$/, 'a numeric Weibo user id')).default([]),
    api_base: HttpUrl.default('https://m.weibo.cn'),
    passport_base: HttpUrl.default('https://passport.weibo.com'),
    /** A logged-in cookie (SUB=…; SUBP=…), usually `${WEIBO_COOKIE}`; without it a visitor cookie is fetched. */
    cookie: z.string().min(1).optional(),
    visitor_cookie: z.boolean().default(true),
    /** Search result pages per keyword per round (Weibo stops serving near 50). */
    max_pages: z.number().int().min(1).max(100).default(50),
    /** Timeline pages per user per round. */
    user_max_pages: z.number().int().min(1).max(100).default(5),
    /** When a search hits max_pages before reaching the previous round, the gap is searched in windows this long (whole hours: Weibo's timescope counts hours). */
    window_minutes: z.number().int().min(60).multipleOf(60).default(60),
    /** Fetch the full text of posts Weibo cuts off (isLongText). */
    expand_long_text: z.boolean().default(true),
    /** Emit the original of a repost as its own document (the repost links to it by parent_id). */
    include_retweeted: z.boolean().default(true),
    /**
     * Comments (m.weibo.cn/comments/hotflow, hottest first) of the posts the round read, each a
     * document whose parent_id is its post's. Off by default: every commented post costs one to
     * `pages_per_post` more calls to an API that blocks by request rate, and the source's first
     * job is not to miss posts.
     */
    comments: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** Only posts with at least this many comments (the hot ones); a post is read again only once its count has grown. */
        min_post_comments: z.number().int().min(1).default(10),
        /** New comments per post per round. */
        per_post: z.number().int().min(1).max(1000).default(50),
        /** hotflow pages (about 20 comments each) per post per round. */
        pages_per_post: z.number().int().min(1).max(50).default(3),
        /** New comments per round, all posts together. */
        per_round: z.number().int().min(1).default(500),
      })
      .prefault({}),
  })
  .refine((s) => s.keywords.length + s.users.length > 0, { message: 'give at least one of keywords or users', path: ['keywords'] });

const WechatListSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    /** A bridge that turns an account into a feed: RSSHub, wewe-rss, we-mp-rss. */
    kind: z.literal('rss'),
    url: HttpUrl,
    /** The account's name, when the feed does not say. */
    account: z.string().min(1).optional(),
  }),
  z.strictObject({
    /** Sogou WeChat article search (weixin.sogou.com/weixin?type=2&query=…). */
    kind: z.literal('sogou'),
    query: z.string().min(1),
    base_url: HttpUrl.default('https://weixin.sogou.com'),
    pages: z.number().int().min(1).max(10).default(1),
  }),
]);

const WechatSourceSchema = z.strictObject({
  type: z.literal('wechat'),
  ...common,
  lists: z.array(WechatListSchema).min(1),
});

export const SourceSchema = z.discriminatedUnion('type', [RssSourceSchema, NewsSourceSchema, WeiboSourceSchema, WechatSourceSchema]);
export type SourceConfig = z.output<typeof SourceSchema>;
export type RssSourceConfig = z.output<typeof RssSourceSchema>;
export type NewsSourceConfig = z.output<typeof NewsSourceSchema>;
export type WeiboSourceConfig = z.output<typeof WeiboSourceSchema>;
export type WechatSourceConfig = z.output<typeof WechatSourceSchema>;
export type WechatListConfig = z.output<typeof WechatListSchema>;
export type SourceType = SourceConfig['type'];

export const SourcesSchema = z.array(SourceSchema).superRefine((sources, ctx) => {
  const seen = new Set<string>();
  sources.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', message: `source name "${s.name}" is used twice`, path: [i, 'name'] });
    seen.add(s.name);
  });
});

export const CollectorHttpSchema = z.strictObject({
  user_agent: z.string().min(1).default(DEFAULT_USER_AGENT),
  /** http://host:port of a proxy for every collector request (per-source `http.proxy` wins). */
  proxy: HttpUrl.optional(),
  /** Extra headers on every request. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Whole request, headers and body, per attempt. */
  timeout_ms: z.number().int().positive().default(20_000),
  /** Attempts per request, the first included; transient failures (network, timeout, 5xx, 429) are retried. */
  max_attempts: z.number().int().min(1).max(10).default(3),
  retry_initial_delay_ms: z.number().int().min(0).default(500),
  retry_max_delay_ms: z.number().int().min(0).default(10_000),
  /** Larger bodies are refused, never buffered (decompressed size counts). */
  max_body_bytes: z.number().int().min(1024).default(10 * 1024 * 1024),
  max_redirects: z.number().int().min(0).max(20).default(5),
  /** Requests in flight to one host at once. */
  per_host_concurrency: z.number().int().min(1).max(64).default(2),
  /** Least time between two requests starting to one host. */
  per_host_min_interval_ms: z.number().int().min(0).default(500),
});
export type CollectorHttpConfig = z.output<typeof CollectorHttpSchema>;

export const CollectorsSchema = z.strictObject({
  http: CollectorHttpSchema.prefault({}),
  /** Default round interval of a source. */
  interval_seconds: z.number().int().min(10).default(300),
  /** Each wait is the interval ± this fraction, so sources do not fire in step. */
  jitter_ratio: z.number().min(0).max(1).default(0.2),
  /** Consecutive failed rounds before operators are told (a block tells them at once). */
  alert_after_failures: z.number().int().min(1).default(3),
  /** Cap of the wait after failed or blocked rounds (it doubles per failure). */
  max_backoff_seconds: z.number().int().min(10).default(3600),
  /** Document ids remembered per source so that a restart does not re-emit. */
  seen_capacity: z.number().int().min(100).max(1_000_000).default(20_000),
  /** Sources running a round at the same time. */
  max_concurrent_sources: z.number().int().min(1).max(64).default(4),
  /** Zone of page times written without an offset. */
  time_zone: z.string().default('Asia/Shanghai').refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone'),
  browser: z
    .strictObject({
      /** Chromium for `render: true` sources (Debian: apt-get install chromium). */
      executable_path: z.string().min(1).default('/usr/bin/chromium'),
      /** Pages rendered at once per source. */
      max_pages: z.number().int().min(1).max(32).default(2),
      navigation_timeout_ms: z.number().int().positive().default(30_000),
    })
    .prefault({}),
});
export type CollectorsConfig = z.output<typeof CollectorsSchema>;
