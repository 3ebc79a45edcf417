import { stableId, type Platform } from '../core/records';
import { DEFAULT_TIME_ZONE, formatIsoInZone, instantOf, localTime } from '../core/time';

/**
 * Pure helpers every collector uses to turn what a platform shows into a Document: canonical URLs
 * and ids, Chinese time expressions, and counts like "100万+". No I/O, no clock: callers pass `now`.
 */


// ---------------------------------------------------------------------------------------------
// URLs and ids

/** Query parameters that only say how a reader arrived; two URLs differing only in these are the same page. */
const TRACKING_PARAMS = new Set([
  'spm', 'scm', 'from', 'isappinstalled', 'share_token', 'share_from', 'shareid', 'share_medium', 'share_source',
  'wfr', 'fromsource', 'chksm', 'scene', 'srcid', 'sessionid', 'clicktime', 'enterid', 'ascene', 'devicetype',
  'nettype', 'pass_ticket', 'exportkey', 'vd_source', 'fbclid', 'gclid', 'mc_cid', 'mc_eid', '_hsenc', '_hsmi',
  'tt_from', 'utm', 'wxfrom', 'xtrack', 'st_source', 'track_id', 'subscene', 'sharer_sharetime', 'sharer_shareid',
]);
const TRACKING_PREFIXES = ['utm_', 'sharer_', 'share_'];

/** WeChat article URLs carry a dozen parameters; these four name the article. */
const WECHAT_KEY_PARAMS = ['__biz', 'mid', 'idx', 'sn'] as const;

/**
 * The URL with tracking parameters removed, the fragment dropped, the remaining parameters sorted.
 * WeChat `mp.weixin.qq.com/s?…` URLs keep just `__biz`, `mid`, `idx`, `sn`; `/s/<token>` links keep none.
 * Returns undefined for anything that is not an absolute http(s) URL.
 */
export function canonicalUrl(raw: string, base?: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim(), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  url.username = '';
  url.password = '';
  if (url.hostname === 'mp.weixin.qq.com') {
    if (url.pathname === '/s' && url.searchParams.has('__biz')) {
      const kept = WECHAT_KEY_PARAMS.map((k) => [k, url.searchParams.get(k) ?? ''] as const).filter(([, v]) => v !== '');
      url.search = '';
      for (const [k, v] of kept) url.searchParams.append(k, v);
      return url.toString();
    }
    if (url.pathname.startsWith('/s/')) {
      url.search = '';
      return url.toString();
    }
  }
  const params = [...url.searchParams.entries()].filter(([k]) => !isTrackingParam(k));
  params.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1));
  url.search = '';
  for (const [k, v] of params) url.searchParams.append(k, v);
  return url.toString();
}

function isTrackingParam(name: string): boolean {
  const k = name.toLowerCase();
  return TRACKING_PARAMS.has(k) || TRACKING_PREFIXES.some((p) => k.startsWith(p));
}

/** Id of a page known by its URL: http and https of the same canonical URL are the same page. */
export function documentIdForUrl(url: string): string {
  const canonical = canonicalUrl(url) ?? url;
  return stableId('url', canonical.replace(/^https?:\/\//, ''));
}

/** Id of a post known by the platform's own id (a Weibo mid). */
export function documentIdForPost(platform: Platform, postId: string): string {
  return stableId(platform, 'post', postId);
}

/** Id of a comment known by the platform's own comment id. */
export function documentIdForComment(platform: Platform, commentId: string): string {
  return stableId(platform, 'comment', commentId);
}

// ---------------------------------------------------------------------------------------------
// Times

export interface TimeContext {
  /** The moment relative expressions (刚刚, 5分钟前, 昨天 10:20, 03-05) are read against. */
  now: Date;
  /** Zone of times written without an offset; default Asia/Shanghai. */
  timeZone?: string;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };

function normaliseTimeText(text: string): string {
  return text
    .replace(/[\uff10-\uff19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/：/g, ':')
    .replace(/[\u00a0\u3000]/g, ' ')
    .trim();
}

function validParts(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  return y >= 1990 && y <= 2100 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

function offsetMinutes(sign: string, hh: string, mm: string): number {
  return (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm));
}

/**
 * Reads the time forms Chinese pages and platforms print and returns ISO 8601 with an offset, or
 * undefined when nothing in the text is a time. Accepted anywhere in the text (so `发布时间：2024年03月05日 10:20`
 * and `2024-03-05 10:20:33 来源：新华网` both work): `2024年03月05日 10:20`, `2024-03-05 10:20:33`, `2024/3/5`,
 * ISO 8601, RFC 822 (`Tue, 05 Mar 2024 10:20:00 +0800`; `CST` read as China Standard Time), Weibo's
 * `Sun Apr 22 09:08:06 +0800 2018`, 刚刚, N秒/分钟/小时/天前, 今天/昨天/前天 HH:mm, `MM-DD`, `M月D日 HH:mm`
 * and Unix seconds or milliseconds. Times without an offset are read in `timeZone`.
 */
export function parseChineseTime(input: string | undefined | null, context: TimeContext): string | undefined {
  if (input === undefined || input === null) return undefined;
  const text = normaliseTimeText(String(input));
  if (text === '') return undefined;
  const tz = context.timeZone ?? DEFAULT_TIME_ZONE;
  const now = context.now.getTime();
  const out = (ms: number) => (Number.isFinite(ms) ? formatIsoInZone(ms, tz) : undefined);

  if (/^\d{10}$/.test(text)) return out(Number(text) * 1000);
  if (/^\d{13}$/.test(text)) return out(Number(text));

  if (/^刚刚/.test(text) || text === '刚才') return out(now);
  let m = /(\d+)\s*(秒|分钟|分|小时|天)(?:钟)?前/.exec(text);
  if (m) {
    const unit = { 秒: 1_000, 分钟: 60_000, 分: 60_000, 小时: 3_600_000, 天: 86_400_000 }[m[2] as '秒'];
    return out(now - Number(m[1]) * unit);
  }
  m = /(今天|昨天|前天)\s*(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(text);
  if (m) {
    const back = { 今天: 0, 昨天: 1, 前天: 2 }[m[1] as '今天'];
    const today = localTime(now, tz);
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day - back));
    const h = Number(m[2]);
    const mi = Number(m[3]);
    const s = Number(m[4] ?? 0);
    if (!validParts(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), h, mi, s)) return undefined;
    return out(instantOf(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), h, mi, s, tz));
  }

  // Weibo and JavaScript's Date#toString: Sun Apr 22 09:08:06 +0800 2018
  m = /\b[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})\b/.exec(text);
  if (m) {
    const mo = MONTHS[m[1]!.toLowerCase()];
    if (!mo) return undefined;
    const [y, d, h, mi, s] = [Number(m[9]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    if (!validParts(y, mo, d, h, mi, s)) return undefined;
    return out(Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes(m[6]!, m[7]!, m[8]!) * 60_000);
  }

  // RFC 822 / 1123 as feeds write it: Tue, 05 Mar 2024 10:20:00 +0800 (or GMT, or CST meaning China).
  m = /(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(GMT|UTC?|Z|CST|[+-]\d{2}:?\d{2})?/.exec(text);
  if (m) {
    const mo = MONTHS[m[2]!.toLowerCase()];
    if (mo) {
      const [y, d, h, mi, s] = [Number(m[3]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
      if (!validParts(y, mo, d, h, mi, s)) return undefined;
      const zone = m[7];
      if (!zone || zone === 'CST') {
        return zone === 'CST' ? out(Date.UTC(y, mo - 1, d, h, mi, s) - 480 * 60_000) : out(instantOf(y, mo, d, h, mi, s, tz));
      }
      if (zone === 'GMT' || zone === 'UT' || zone === 'UTC' || zone === 'Z') return out(Date.UTC(y, mo - 1, d, h, mi, s));
      const z = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
      return out(Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes(z[1]!, z[2]!, z[3]!) * 60_000);
    }
  }

  // Year-month-day in any of the usual separators, optional time, optional offset.
  m = /(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?(?:\s*T?\s*(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?/.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
    if (!validParts(y, mo, d, h, mi, s)) return undefined;
    const zone = m[7];
    if (zone === 'Z') return out(Date.UTC(y, mo - 1, d, h, mi, s));
    if (zone) {
      const z = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
      return out(Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes(z[1]!, z[2]!, z[3]!) * 60_000);
    }
    return out(instantOf(y, mo, d, h, mi, s, tz));
  }

  // Month and day without a year (Weibo's 03-05, 3月5日 10:20): this year, or last year if that is in the future.
  m = /^(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2}))?$/.exec(text);
  if (m) {
    const today = localTime(now, tz);
    const [mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    if (!validParts(today.year, mo, d, h, mi, 0)) return undefined;
    let instant = instantOf(today.year, mo, d, h, mi, 0, tz);
    if (instant > now + 86_400_000) instant = instantOf(today.year - 1, mo, d, h, mi, 0, tz);
    return out(instant);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Counts

const UNITS: Record<string, number> = { 万: 10_000, w: 10_000, W: 10_000, 亿: 100_000_000, 千: 1_000, k: 1_000, K: 1_000 };

/**
 * Counts as platforms print them: 123, "1,234", "1.2万", "100万+", "3亿", "2k". Returns undefined for
 * text that is not a count (Weibo prints "转发" instead of 0 on some pages: the caller decides).
 */
export function parseCount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = normaliseTimeText(value).replace(/[,，\s]/g, '').replace(/\+$/, '');
  const m = /^(\d+(?:\.\d+)?)(万|w|W|亿|千|k|K)?$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2] ? UNITS[m[2]]! : 1));
}

// ---------------------------------------------------------------------------------------------
// Author tiers

/** Outlets whose 来源 line marks central media; the level policy weighs them more (a hint, not a verdict). */
const CENTRAL_OUTLETS = [
  '新华社', '新华网', '人民日报', '人民网', '央视', '中央电视台', '央视网', '中国新闻网', '中新网', '中新社', '光明日报', '光明网',
  '经济日报', '求是', '中国日报', '中国青年报', '中青网', '解放军报', '中国网', '国际在线', '中央人民广播电台', '中国之声', '国务院',
];

export function tierFromOutlet(outlet: string | undefined): 'central' | undefined {
  if (!outlet) return undefined;
  return CENTRAL_OUTLETS.some((name) => outlet.includes(name)) ? 'central' : undefined;
}

/** A title for platforms that have none (Weibo): the first line of the text, cut at `max` characters. */
export function titleFromText(text: string, max = 60): string {
  const first = text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
  const chars = [...first];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : first;
}
