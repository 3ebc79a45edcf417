// Formatting shared by the pages: times in the console's zone, durations, sentiment words, keyword
// highlighting as text segments, and which links may be followed.
import { getLanguage, t } from './i18n.js';

let timeZone = 'Asia/Shanghai';

/** @param {string} zone */
export function setTimeZone(zone) {
  timeZone = zone;
}

export function getTimeZone() {
  return timeZone;
}

/** @param {string | undefined | null} iso @param {{ seconds?: boolean, dateOnly?: boolean }} [options] */
export function formatTime(iso, options = {}) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  /** @type {Intl.DateTimeFormatOptions} */
  const format = { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hourCycle: 'h23' };
  if (!options.dateOnly) Object.assign(format, { hour: '2-digit', minute: '2-digit', ...(options.seconds ? { second: '2-digit' } : {}) });
  return new Intl.DateTimeFormat(getLanguage(), format).format(date);
}

/** A bucket key as a short axis label: "03-05 10:00" or "03-05". @param {string} iso @param {'hour' | 'day'} interval */
export function formatBucket(iso, interval) {
  const date = new Date(iso);
  /** @type {Intl.DateTimeFormatOptions} */
  const format = { timeZone, month: '2-digit', day: '2-digit', hourCycle: 'h23', ...(interval === 'hour' ? { hour: '2-digit', minute: '2-digit' } : {}) };
  return new Intl.DateTimeFormat(getLanguage(), format).format(date);
}

/** @param {number | undefined | null} ms @returns {string} */
export function formatDuration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 0) return `−${formatDuration(-ms)}`;
  const zh = getLanguage() !== 'en';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return zh ? `${seconds} 秒` : `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return zh ? `${minutes} 分钟` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return zh ? `${hours} 小时 ${minutes % 60} 分` : `${hours} h ${minutes % 60} min`;
}

/** @param {number | undefined | null} score -1…1 */
export function sentimentLabel(score) {
  if (score === undefined || score === null) return '—';
  const word = score <= -0.2 ? t('sentiment_negative') : score >= 0.2 ? t('sentiment_positive') : t('sentiment_neutral');
  return `${word} (${score.toFixed(2)})`;
}

/** @param {number | undefined | null} score */
export function sentimentClass(score) {
  if (score === undefined || score === null) return '';
  return score <= -0.2 ? 'neg' : score >= 0.2 ? 'pos' : 'neu';
}

/**
 * The text cut into plain and highlighted pieces at the hit offsets (UTF-16 indices into the original
 * text, as the API gives them). Overlapping hits merge (touching ones stay two marks, one per keyword); offsets outside the text are
 * clipped. The pieces are rendered as text nodes and <mark> elements, never as markup.
 * @param {string} text
 * @param {ReadonlyArray<{ start: number, end: number }>} hits
 * @returns {{ text: string, mark: boolean }[]}
 */
export function segments(text, hits) {
  /** @type {[number, number][]} */
  const ranges = hits.map((h) => /** @type {[number, number]} */ ([Math.max(0, h.start), Math.min(text.length, h.end)]));
  /** @type {[number, number][]} */
  const merged = [];
  for (const [start, end] of ranges.filter(([s, e]) => s < e).sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && start < last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  /** @type {{ text: string, mark: boolean }[]} */
  const out = [];
  let at = 0;
  for (const [start, end] of merged) {
    if (start > at) out.push({ text: text.slice(at, start), mark: false });
    out.push({ text: text.slice(start, end), mark: true });
    at = end;
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false });
  return out;
}

/** The URL if it is http(s), else undefined: scraped links may be `javascript:` or `data:`. @param {unknown} url */
export function safeHref(url) {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** The zone's offset from UTC at an instant, in ms. @param {number} utcMs */
function zoneOffsetMs(utcMs) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(utcMs));
  /** @param {string} type */
  const part = (type) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) - utcMs;
}

/**
 * A `<input type="datetime-local">` value read as a time in the console's zone (not the browser's),
 * as ISO 8601; undefined when empty or malformed.
 * @param {string} local "YYYY-MM-DDTHH:MM"
 */
export function zonedToIso(local) {
  const asUtc = Date.parse(`${local}:00Z`);
  if (Number.isNaN(asUtc)) return undefined;
  return new Date(asUtc - zoneOffsetMs(asUtc)).toISOString();
}
