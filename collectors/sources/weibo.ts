import { load } from 'cheerio';
import { z } from 'zod';
import { DEFAULT_MOBILE_USER_AGENT, type WeiboSourceConfig } from '../config';
import { formatIsoInZone } from '../../core/time';
import { documentIdForComment, documentIdForPost, parseChineseTime, parseCount, titleFromText } from '../document';
import { CollectError, isBlocked } from '../errors';
import { nodesToText } from '../html';
import type { FetchResponse } from '../http';
import type { Collector, CollectorDeps, RunContext } from '../types';
import { fetchOptionsFor } from './shared';

/**
 * Weibo through the mobile JSON API (m.weibo.cn/api/container/getIndex): real-time keyword search,
 * split into time windows when the ~50-page cap hides part of the gap since the last round, and
 * user timelines paged by since_id. Posts become plain text with #topics# and @mentions kept; long
 * posts are expanded; reposts link to their original by parent_id. With `comments.enabled`, the
 * hottest comments of the posts read (comments/hotflow, paged by max_id) become documents whose
 * parent_id is their post's. `ok: -100`, HTTP 432/418/403 and captcha or login pages are a block:
 * the round stops, the source backs off, operators are told.
 */

export interface WeiboUser {
  id?: number | string;
  screen_name?: string;
  verified?: boolean;
  verified_type?: number;
  followers_count?: number | string;
}

export interface WeiboPost {
  id?: string | number;
  mid?: string | number;
  bid?: string;
  created_at?: string;
  text?: string;
  isLongText?: boolean;
  reposts_count?: number | string;
  comments_count?: number | string;
  attitudes_count?: number | string;
  user?: WeiboUser | null;
  retweeted_status?: WeiboPost | null;
  isTop?: number | boolean;
  mblogtype?: number;
}

interface Card {
  card_type?: number;
  mblog?: WeiboPost;
  card_group?: Card[];
}

/** One comment of a comments/hotflow answer. */
export interface WeiboComment {
  id?: number | string;
  idstr?: string;
  mid?: string;
  created_at?: string;
  text?: string;
  user?: WeiboUser | null;
  like_count?: number | string;
  /** Replies to this comment. */
  total_number?: number | string;
}

interface ApiAnswer {
  ok?: number;
  msg?: string;
  data?: {
    cards?: Card[];
    cardlistInfo?: { since_id?: string | number; total?: number };
    longTextContent?: string;
    /** comments/hotflow: the comments of this page, and where the next page starts (0: no more). */
    data?: WeiboComment[];
    max_id?: number | string;
    max_id_type?: number;
  };
}

/** A post whose comments the round may read. */
interface CommentTarget {
  mid: string;
  docId: string;
  comments: number;
}

/** Cursor of the comments read: [mid, comment count when last read] pairs, oldest read first. */
const COMMENTS_CURSOR = 'comments';
const CommentsCursor = z.array(z.tuple([z.string(), z.number()]));
/** Posts remembered in that cursor; older ones are read again only if they come up with more comments. */
const COMMENT_CURSOR_POSTS = 2_000;

/** The posts of an answer, in order: card_type 9 cards and those inside card_group containers. */
export function postsOf(cards: Card[] | undefined): WeiboPost[] {
  const out: WeiboPost[] = [];
  for (const card of cards ?? []) {
    if (card.card_type === 9 && card.mblog) out.push(card.mblog);
    if (Array.isArray(card.card_group)) out.push(...postsOf(card.card_group));
  }
  return out;
}

/** A post's HTML as plain text: #话题# and @名字 kept, emoticons as [哈哈], the "全文" link dropped. */
export function weiboText(html: string): string {
  const $ = load(`<div id="weibo-root">${html}</div>`);
  $('a').each((_, a) => {
    const text = $(a).text().trim();
    if (text === '全文' || text === '...全文') $(a).remove();
  });
  return nodesToText($('#weibo-root').toArray() as Parameters<typeof nodesToText>[0])
    .replace(/\.\.\.$/, '')
    .replace(/​/g, '')
    .trim();
}

const postId = (p: WeiboPost) => String(p.mid ?? p.id ?? '');

/** Author fields of a post or comment; the tier from the source if it sets one, else from the verified flag. */
function authorFields(user: WeiboUser | null | undefined, sourceTier: WeiboSourceConfig['author_tier']) {
  const tier = sourceTier ?? (user ? (user.verified ? 'verified' : 'ordinary') : undefined);
  return {
    ...(user?.screen_name ? { author: user.screen_name.slice(0, 200) } : {}),
    ...(user && typeof user.verified === 'boolean' ? { author_verified: user.verified } : {}),
    ...(tier ? { author_tier: tier } : {}),
  };
}

const definedOnly = (metrics: Record<string, number | undefined>) => Object.fromEntries(Object.entries(metrics).filter(([, v]) => v !== undefined));

function isPinned(p: WeiboPost): boolean {
  return p.isTop === 1 || p.isTop === true || p.mblogtype === 2;
}

/** Weibo's timescope parameter counts whole hours: 2024-03-05-10. */
function hourStamp(ms: number, timeZone: string): string {
  const iso = formatIsoInZone(ms, timeZone);
  return `${iso.slice(0, 10)}-${Number(iso.slice(11, 13))}`;
}

interface Tally {
  ok: number;
  failed: number;
  last?: unknown;
}

export class WeiboCollector implements Collector {
  readonly platform = 'weibo' as const;
  #visitorCookie: string | undefined;
  /** This round's posts with enough comments to read, by mid. */
  #commentTargets = new Map<string, CommentTarget>();

  constructor(
    readonly source: WeiboSourceConfig,
    private readonly deps: CollectorDeps,
  ) {}

  async run(ctx: RunContext): Promise<void> {
    const tally: Tally = { ok: 0, failed: 0 };
    this.#commentTargets = new Map();
    for (const keyword of this.source.keywords) {
      if (ctx.full || ctx.signal.aborted) break;
      await this.#search(ctx, keyword, tally);
    }
    for (const uid of this.source.users) {
      if (ctx.full || ctx.signal.aborted) break;
      await this.#timeline(ctx, uid, tally);
    }
    // After the posts: comments never take a round's budget from posts.
    await this.#comments(ctx, tally);
    if (tally.ok === 0 && tally.failed > 0) {
      const last = tally.last;
      throw last instanceof CollectError
        ? new CollectError(last.code, `every Weibo request failed; last: ${last.message}`, { cause: last, ...(last.url ? { url: last.url } : {}) })
        : new CollectError('SB_COLLECT_FETCH_FAILED', 'every Weibo request failed', { cause: last });
    }
  }

  async close(): Promise<void> {}

  // ------------------------------------------------------------------------------------------
  // Search

  async #search(ctx: RunContext, keyword: string, tally: Tally): Promise<void> {
    const key = `kw:${keyword}`;
    const cursor = ctx.cursor(key);
    // Ten minutes of overlap: search results are not strictly ordered by time.
    const stopAt = cursor ? Date.parse(cursor) - 10 * 60_000 : undefined;
    const result = await this.#searchPages(ctx, keyword, undefined, stopAt, tally);
    let newest = result.newest;
    let complete = result.complete;
    if (result.capped && stopAt !== undefined && result.oldest !== undefined && result.oldest > stopAt) {
      // The page cap hid part of the gap since the last round: search it hour window by hour window, newest first.
      const step = this.source.window_minutes * 60_000;
      ctx.log.info({ keyword, from: new Date(stopAt).toISOString(), to: new Date(result.oldest).toISOString() }, 'search capped; filling the gap in time windows');
      for (let end = result.oldest; end > stopAt && !ctx.full && !ctx.signal.aborted; end -= step) {
        const start = Math.max(stopAt, end - step);
        const window = `custom:${hourStamp(start, ctx.timeZone)}:${hourStamp(end, ctx.timeZone)}`;
        const w = await this.#searchPages(ctx, keyword, window, undefined, tally);
        if (w.newest !== undefined) newest = Math.max(newest ?? 0, w.newest);
        if (!w.complete) complete = false;
        if (w.capped) ctx.log.warn({ keyword, window }, 'a time window is still capped by Weibo; some posts in it may be missed');
      }
    }
    if (complete && newest !== undefined) {
      const prev = cursor ? Date.parse(cursor) : 0;
      ctx.setCursor(key, formatIsoInZone(Math.max(prev, newest), ctx.timeZone));
    }
  }

  async #searchPages(ctx: RunContext, keyword: string, timescope: string | undefined, stopAt: number | undefined, tally: Tally) {
    let newest: number | undefined;
    let oldest: number | undefined;
    let complete = true;
    let capped = false;
    for (let page = 1; page <= this.source.max_pages; page++) {
      if (ctx.full || ctx.signal.aborted) {
        complete = false;
        break;
      }
      const containerid = `100103type=61&q=${keyword}&t=${timescope ? `&timescope=${timescope}` : ''}`;
      const url = `${this.source.api_base.replace(/\/$/, '')}/api/container/getIndex?containerid=${encodeURIComponent(containerid)}&page_type=searchall&page=${page}`;
      const answer = await this.#api(ctx, url, tally);
      if (!answer) {
        complete = false;
        break;
      }
      if (answer.ok === 0) break; // 这里还没有内容: past the last page
      const posts = postsOf(answer.data?.cards);
      if (posts.length === 0) break;
      const times = await this.#emitPosts(ctx, posts);
      for (const t of times.all) {
        newest = Math.max(newest ?? t, t);
        oldest = Math.min(oldest ?? t, t);
      }
      if (!times.complete) complete = false;
      if (stopAt !== undefined && times.unpinned.length > 0 && times.unpinned.every((t) => t < stopAt)) break;
      if (page === this.source.max_pages) capped = true;
    }
    return { newest, oldest, complete, capped };
  }

  // ------------------------------------------------------------------------------------------
  // User timelines

  async #timeline(ctx: RunContext, uid: string, tally: Tally): Promise<void> {
    const key = `user:${uid}`;
    const cursor = ctx.cursor(key);
    const stopAt = cursor ? Date.parse(cursor) : undefined;
    let sinceId: string | undefined;
    let newest: number | undefined;
    let complete = true;
    for (let page = 1; page <= this.source.user_max_pages; page++) {
      if (ctx.full || ctx.signal.aborted) {
        complete = false;
        break;
      }
      const base = `${this.source.api_base.replace(/\/$/, '')}/api/container/getIndex?type=uid&value=${uid}&containerid=230413${uid}`;
      const answer = await this.#api(ctx, sinceId ? `${base}&since_id=${encodeURIComponent(sinceId)}` : base, tally);
      if (!answer) {
        complete = false;
        break;
      }
      if (answer.ok === 0) break;
      const posts = postsOf(answer.data?.cards);
      if (posts.length === 0) break;
      const times = await this.#emitPosts(ctx, posts);
      for (const t of times.all) newest = Math.max(newest ?? t, t);
      if (!times.complete) complete = false;
      if (stopAt !== undefined && times.unpinned.length > 0 && times.unpinned.every((t) => t <= stopAt)) break;
      const next = answer.data?.cardlistInfo?.since_id;
      if (next === undefined || next === '' || next === 0) break;
      sinceId = String(next);
    }
    if (complete && newest !== undefined) ctx.setCursor(key, formatIsoInZone(Math.max(stopAt ?? 0, newest), ctx.timeZone));
  }

  // ------------------------------------------------------------------------------------------
  // Posts

  /** Emits the posts (and the originals of reposts); returns their times for the paging decisions. */
  async #emitPosts(ctx: RunContext, posts: WeiboPost[]): Promise<{ all: number[]; unpinned: number[]; complete: boolean }> {
    const all: number[] = [];
    const unpinned: number[] = [];
    let complete = true;
    for (const post of posts) {
      const published = parseChineseTime(post.created_at, ctx);
      if (published) {
        const t = Date.parse(published);
        all.push(t);
        if (!isPinned(post)) unpinned.push(t);
      }
      if (ctx.full) {
        complete = false;
        continue;
      }
      const ok = await this.#emitPost(ctx, post);
      if (!ok) complete = false;
    }
    return { all, unpinned, complete };
  }

  /** False when the post could not be emitted whole (it will be tried again next round). */
  async #emitPost(ctx: RunContext, post: WeiboPost): Promise<boolean> {
    const id = postId(post);
    if (!id) {
      ctx.pageFailed(this.source.api_base, new CollectError('SB_COLLECT_MALFORMED', 'post without id or mid'));
      return true;
    }
    let parentId: string | undefined;
    const original = post.retweeted_status;
    if (original) {
      const originalId = postId(original);
      if (originalId) parentId = documentIdForPost('weibo', originalId);
      // A deleted original has no user: the repost still links to it, nothing else is known.
      if (this.source.include_retweeted && original.user && originalId && (ctx.isSeen(parentId!) || (await this.#emitOne(ctx, original, undefined)))) {
        this.#noteCommentTarget(original);
      }
    }
    const ok = await this.#emitOne(ctx, post, parentId);
    if (ok) this.#noteCommentTarget(post);
    return ok;
  }

  #noteCommentTarget(post: WeiboPost): void {
    const { comments } = this.source;
    const count = parseCount(post.comments_count) ?? 0;
    const mid = postId(post);
    if (comments.enabled && count >= comments.min_post_comments) this.#commentTargets.set(mid, { mid, docId: documentIdForPost('weibo', mid), comments: count });
  }

  async #emitOne(ctx: RunContext, post: WeiboPost, parentId: string | undefined): Promise<boolean> {
    const id = postId(post);
    const docId = documentIdForPost('weibo', id);
    if (ctx.isSeen(docId)) return true;
    const url = post.user?.id && post.bid ? `https://weibo.com/${post.user.id}/${post.bid}` : `https://m.weibo.cn/detail/${id}`;
    const published = parseChineseTime(post.created_at, ctx);
    if (!published) {
      ctx.pageFailed(url, new CollectError('SB_COLLECT_MALFORMED', `unreadable created_at "${post.created_at ?? ''}"`, { url }));
      return false;
    }
    let html = post.text ?? '';
    if (post.isLongText && this.source.expand_long_text) {
      try {
        const answer = await this.#api(ctx, `${this.source.api_base.replace(/\/$/, '')}/statuses/extend?id=${encodeURIComponent(id)}`, undefined);
        const long = answer?.ok === 1 ? answer.data?.longTextContent : undefined;
        if (!long) throw new CollectError('SB_COLLECT_MALFORMED', 'long text answer without longTextContent', { url });
        html = long;
      } catch (err) {
        if (isBlocked(err) || ctx.signal.aborted) throw err;
        ctx.pageFailed(url, err);
        return false;
      }
    }
    const text = weiboText(html);
    await ctx.emit({
      id: docId,
      platform: 'weibo',
      source: this.source.name,
      url,
      title: titleFromText(text),
      text,
      published_at: published,
      fetched_at: formatIsoInZone(ctx.now, ctx.timeZone),
      metrics: definedOnly({
        reposts: parseCount(post.reposts_count),
        comments: parseCount(post.comments_count),
        likes: parseCount(post.attitudes_count),
        author_followers: parseCount(post.user?.followers_count),
      }),
      ...authorFields(post.user, this.source.author_tier),
      ...(parentId ? { parent_id: parentId } : {}),
      lang: this.source.lang,
    });
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Comments

  /**
   * Reads the hottest comments of this round's posts that have gained comments since they were
   * last read, within the per-post and per-round limits. The cursor (post → comment count when
   * read) moves only with the round, and the seen-set drops comments already emitted, so a restart
   * re-emits none.
   */
  async #comments(ctx: RunContext, tally: Tally): Promise<void> {
    const limits = this.source.comments;
    if (!limits.enabled || this.#commentTargets.size === 0) return;
    const parsed = CommentsCursor.safeParse(safeJson(ctx.cursor(COMMENTS_CURSOR)));
    const read = new Map(parsed.success ? parsed.data : []);
    let budget = limits.per_round;
    for (const target of this.#commentTargets.values()) {
      if (budget <= 0 || ctx.full || ctx.signal.aborted) break;
      if ((read.get(target.mid) ?? -1) >= target.comments) continue;
      const { emitted, finished } = await this.#postComments(ctx, target, Math.min(limits.per_post, budget), tally);
      budget -= emitted;
      if (finished) {
        read.delete(target.mid);
        read.set(target.mid, target.comments);
      }
    }
    const kept = [...read].slice(-COMMENT_CURSOR_POSTS);
    ctx.setCursor(COMMENTS_CURSOR, JSON.stringify(kept));
  }

  /** One post's comments, page by page (max_id); `finished` unless a page failed or the round ran out. */
  async #postComments(ctx: RunContext, target: CommentTarget, limit: number, tally: Tally): Promise<{ emitted: number; finished: boolean }> {
    const base = `${this.source.api_base.replace(/\/$/, '')}/comments/hotflow?id=${target.mid}&mid=${target.mid}`;
    let maxId: string | undefined;
    let maxIdType = 0;
    let emitted = 0;
    for (let page = 1; page <= this.source.comments.pages_per_post; page++) {
      if (ctx.full || ctx.signal.aborted) return { emitted, finished: false };
      const answer = await this.#api(ctx, `${base}${maxId ? `&max_id=${maxId}` : ''}&max_id_type=${maxIdType}`, tally);
      if (!answer) return { emitted, finished: false };
      if (answer.ok === 0) break; // 快来发表你的评论吧: no comments (any more)
      const comments = Array.isArray(answer.data?.data) ? answer.data.data : [];
      for (const comment of comments) {
        if (emitted >= limit) return { emitted, finished: true };
        if (await this.#emitComment(ctx, target, comment)) emitted++;
      }
      const next = answer.data?.max_id;
      if (comments.length === 0 || next === undefined || String(next) === '0') break;
      maxId = String(next);
      maxIdType = Number(answer.data?.max_id_type) || 0;
    }
    return { emitted, finished: true };
  }

  /** True when the comment was emitted (not already seen, not malformed). */
  async #emitComment(ctx: RunContext, target: CommentTarget, comment: WeiboComment): Promise<boolean> {
    const cid = String(comment.idstr ?? comment.mid ?? comment.id ?? '');
    const url = `https://m.weibo.cn/detail/${target.mid}?cid=${cid}`;
    if (!/^\d+$/.test(cid)) {
      ctx.pageFailed(url, new CollectError('SB_COLLECT_MALFORMED', 'comment without a numeric id', { url }));
      return false;
    }
    const published = parseChineseTime(comment.created_at, ctx);
    if (!published) {
      ctx.pageFailed(url, new CollectError('SB_COLLECT_MALFORMED', `unreadable comment created_at "${comment.created_at ?? ''}"`, { url }));
      return false;
    }
    const text = weiboText(comment.text ?? '');
    return ctx.emit({
      id: documentIdForComment('weibo', cid),
      platform: 'weibo',
      source: this.source.name,
      url,
      title: titleFromText(text),
      text,
      published_at: published,
      fetched_at: formatIsoInZone(ctx.now, ctx.timeZone),
      metrics: definedOnly({ likes: parseCount(comment.like_count), comments: parseCount(comment.total_number), author_followers: parseCount(comment.user?.followers_count) }),
      ...authorFields(comment.user, this.source.author_tier),
      parent_id: target.docId,
      lang: this.source.lang,
    });
  }

  // ------------------------------------------------------------------------------------------
  // The API

  /** One API call; undefined after a page failure (counted), a CollectError thrown for a block. */
  async #api(ctx: RunContext, url: string, tally: Tally | undefined): Promise<ApiAnswer | undefined> {
    try {
      const cookie = await this.#cookie(ctx);
      const res = await this.deps.http.fetch(
        url,
        fetchOptionsFor(this.source, ctx.signal, {
          userAgent: this.source.http.user_agent ?? DEFAULT_MOBILE_USER_AGENT,
          passStatuses: [403, 418, 432],
          headers: {
            accept: 'application/json, text/plain, */*',
            'mweibo-pwa': '1',
            'x-requested-with': 'XMLHttpRequest',
            referer: `${this.source.api_base.replace(/\/$/, '')}/`,
            ...(cookie ? { cookie } : {}),
          },
        }),
      );
      const answer = this.#read(res, url);
      if (tally) tally.ok++;
      return answer;
    } catch (err) {
      if (isBlocked(err)) {
        this.#visitorCookie = undefined;
        throw err;
      }
      if (ctx.signal.aborted) throw err;
      if (!tally) throw err;
      tally.failed++;
      tally.last = err;
      ctx.pageFailed(url, err);
      return undefined;
    }
  }

  #read(res: FetchResponse, url: string): ApiAnswer {
    if (res.status === 432 || res.status === 418 || res.status === 403) {
      throw new CollectError('SB_COLLECT_BLOCKED', `Weibo answered HTTP ${res.status} (blocked)`, { url, status: res.status });
    }
    if (/passport\.weibo\.(com|cn)|login\.sina\.com\.cn|\/(login|captcha|verify)/i.test(new URL(res.url).host + new URL(res.url).pathname) && res.url !== url) {
      throw new CollectError('SB_COLLECT_BLOCKED', `Weibo redirected to a login or captcha page (${res.url})`, { url });
    }
    const body = res.text().text.trim();
    if (body.startsWith('<')) {
      if (/验证码|captcha|Sina Visitor System|passport\.weibo|安全验证|访问频繁/i.test(body)) {
        throw new CollectError('SB_COLLECT_BLOCKED', 'Weibo answered with a captcha or visitor page instead of JSON', { url });
      }
      throw new CollectError('SB_COLLECT_MALFORMED', 'Weibo answered HTML where JSON was expected', { url });
    }
    let answer: ApiAnswer;
    try {
      answer = JSON.parse(body) as ApiAnswer;
    } catch (err) {
      throw new CollectError('SB_COLLECT_MALFORMED', `unreadable JSON (${body.length} bytes): ${(err as Error).message}`, { url, cause: err });
    }
    if (answer === null || typeof answer !== 'object') throw new CollectError('SB_COLLECT_MALFORMED', 'JSON answer is not an object', { url });
    if (answer.ok === -100) {
      throw new CollectError('SB_COLLECT_BLOCKED', `Weibo wants a login (ok: -100): the cookie is missing or expired${answer.msg ? ` (${answer.msg})` : ''}`, { url });
    }
    if (answer.ok !== 1 && answer.ok !== 0) throw new CollectError('SB_COLLECT_MALFORMED', `unexpected answer ok=${String(answer.ok)} ${answer.msg ?? ''}`.trim(), { url });
    return answer;
  }

  async #cookie(ctx: RunContext): Promise<string | undefined> {
    if (this.source.cookie) return this.source.cookie;
    if (!this.source.visitor_cookie) return undefined;
    this.#visitorCookie ??= await this.#fetchVisitorCookie(ctx);
    return this.#visitorCookie;
  }

  /** The visitor flow of passport.weibo.com: genvisitor → tid, incarnate → SUB and SUBP cookies. */
  async #fetchVisitorCookie(ctx: RunContext): Promise<string> {
    const base = this.source.passport_base.replace(/\/$/, '');
    const fp = JSON.stringify({ os: '1', browser: 'Chrome124,0,0,0', fonts: 'undefined', screenInfo: '1920*1080*24', plugins: '' });
    const options = fetchOptionsFor(this.source, ctx.signal, { userAgent: this.source.http.user_agent ?? DEFAULT_MOBILE_USER_AGENT });
    const gen = await this.deps.http.fetch(`${base}/visitor/genvisitor`, {
      ...options,
      method: 'POST',
      body: new URLSearchParams({ cb: 'gen_callback', fp }).toString(),
      headers: { ...options.headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    const tid = (jsonp(gen.text().text) as { data?: { tid?: string } } | undefined)?.data?.tid;
    if (!tid) throw new CollectError('SB_COLLECT_BLOCKED', 'no visitor id from passport.weibo.com (genvisitor)', { url: `${base}/visitor/genvisitor` });
    const incarnateUrl = `${base}/visitor/visitor?a=incarnate&t=${encodeURIComponent(tid)}&w=2&c=095&gc=&cb=cross_domain&from=weibo&_rand=${Math.random()}`;
    const inc = await this.deps.http.fetch(incarnateUrl, { ...options, headers: { ...options.headers, cookie: `tid=${tid}__095` } });
    const data = (jsonp(inc.text().text) as { data?: { sub?: string; subp?: string } } | undefined)?.data;
    const fromHeaders = Object.fromEntries(
      inc.setCookies.map((c) => c.split(';')[0]!.split('=')).filter((kv) => kv[0] === 'SUB' || kv[0] === 'SUBP').map(([k, ...v]) => [k, v.join('=')]),
    );
    const sub = data?.sub ?? fromHeaders.SUB;
    const subp = data?.subp ?? fromHeaders.SUBP;
    if (!sub || !subp) throw new CollectError('SB_COLLECT_BLOCKED', 'no visitor cookie from passport.weibo.com (incarnate)', { url: incarnateUrl });
    ctx.log.info('obtained a Weibo visitor cookie');
    return `SUB=${sub}; SUBP=${subp}`;
  }
}

/** `window.cb && cb({...});` → the object. */
function jsonp(text: string): unknown {
  const m = /\(\s*(\{[\s\S]*\})\s*\)\s*;?\s*$/.exec(text.trim());
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!);
  } catch {
    return undefined;
  }
}

function safeJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
