import { dateOfDayNumber, dayNumber, DEFAULT_TIME_ZONE, instantOf, localTime, parseClock } from '../../core/time';

/**
 * The periods a briefing covers, as instants, cut at local midnight in the console's zone: a 日报 is
 * one calendar day, a 周报 one Monday–Sunday week. Scheduled briefings are keyed by period, so a
 * restarted scheduler recognises what it has already produced.
 */

export const BRIEFING_KINDS = ['daily', 'weekly', 'custom'] as const;
export type BriefingKind = (typeof BRIEFING_KINDS)[number];

export interface Period {
  kind: BriefingKind;
  /** Inclusive, ISO 8601 UTC. */
  from: string;
  /** Exclusive, ISO 8601 UTC. */
  to: string;
  /** Stable name of the period: `daily-2026-03-05`, `weekly-2026-03-02` (its Monday), `custom-<from>-<to>`. */
  key: string;
  /** As a reader says it, in the zone: `2026年3月5日`, `2026年3月2日至3月8日`. */
  label: string;
  time_zone: string;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const pad = (n: number) => String(n).padStart(2, '0');
const isoDate = (d: LocalDate) => `${d.year}-${pad(d.month)}-${pad(d.day)}`;
const midnight = (n: number, timeZone: string) => {
  const d = dateOfDayNumber(n);
  return new Date(instantOf(d.year, d.month, d.day, 0, 0, 0, timeZone)).toISOString();
};

/** The local calendar day (as a day number) of an instant. */
export function localDay(instantMs: number, timeZone: string = DEFAULT_TIME_ZONE): number {
  const t = localTime(instantMs, timeZone);
  return dayNumber(t.year, t.month, t.day);
}

/** Parses `YYYY-MM-DD` into a day number, or undefined when it names no date. */
export function parseLocalDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const n = dayNumber(year, month, day);
  const back = dateOfDayNumber(n);
  return back.year === year && back.month === month && back.day === day ? n : undefined;
}

/** The 日报 of one local calendar day. */
export function dayPeriod(day: number, timeZone: string = DEFAULT_TIME_ZONE): Period {
  const d = dateOfDayNumber(day);
  return {
    kind: 'daily',
    from: midnight(day, timeZone),
    to: midnight(day + 1, timeZone),
    key: `daily-${isoDate(d)}`,
    label: `${d.year}年${d.month}月${d.day}日`,
    time_zone: timeZone,
  };
}

/** The 周报 of the Monday–Sunday week holding `day`. */
export function weekPeriod(day: number, timeZone: string = DEFAULT_TIME_ZONE): Period {
  const monday = day - (isoWeekday(day) - 1);
  const first = dateOfDayNumber(monday);
  const last = dateOfDayNumber(monday + 6);
  return {
    kind: 'weekly',
    from: midnight(monday, timeZone),
    to: midnight(monday + 7, timeZone),
    key: `weekly-${isoDate(first)}`,
    label: `${first.year}年${first.month}月${first.day}日至${last.year === first.year ? '' : `${last.year}年`}${last.month}月${last.day}日`,
    time_zone: timeZone,
  };
}

/** Any span; times in the label are local. */
export function customPeriod(fromMs: number, toMs: number, timeZone: string = DEFAULT_TIME_ZONE): Period {
  const show = (ms: number) => {
    const t = localTime(ms, timeZone);
    return `${t.year}年${t.month}月${t.day}日 ${pad(t.hour)}:${pad(t.minute)}`;
  };
  const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d+/g, '').toLowerCase();
  return {
    kind: 'custom',
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    key: `custom-${compact(fromMs)}-${compact(toMs)}`,
    label: `${show(fromMs)} 至 ${show(toMs)}`,
    time_zone: timeZone,
  };
}

/** The period a briefing of `kind` generated at `nowMs` covers by default: yesterday, or last week. */
export function latestCompleted(kind: 'daily' | 'weekly', nowMs: number, timeZone: string = DEFAULT_TIME_ZONE): Period {
  const today = localDay(nowMs, timeZone);
  return kind === 'daily' ? dayPeriod(today - 1, timeZone) : weekPeriod(today - 7, timeZone);
}

/** The period just before, of the same kind and length, for 环比 (period-on-period) figures. */
export function previousPeriod(period: Period): Period {
  const tz = period.time_zone;
  const fromDay = localDay(Date.parse(period.from), tz);
  switch (period.kind) {
    case 'daily':
      return dayPeriod(fromDay - 1, tz);
    case 'weekly':
      return weekPeriod(fromDay - 7, tz);
    case 'custom': {
      const span = Date.parse(period.to) - Date.parse(period.from);
      return customPeriod(Date.parse(period.from) - span, Date.parse(period.from), tz);
    }
  }
}

/**
 * The period whose scheduled briefing fell due last, at or before `nowMs`: daily at `at` every day
 * (covering the day before), weekly at `at` on `weekday` (covering the week before that day's week).
 */
export function lastDuePeriod(schedule: { kind: 'daily' | 'weekly'; at: string; weekday?: number }, nowMs: number, timeZone: string = DEFAULT_TIME_ZONE): Period {
  const minutes = parseClock(schedule.at);
  const dueOn = (day: number) => {
    const d = dateOfDayNumber(day);
    return instantOf(d.year, d.month, d.day, Math.floor(minutes / 60), minutes % 60, 0, timeZone);
  };
  let day = localDay(nowMs, timeZone);
  if (schedule.kind === 'weekly') day -= (isoWeekday(day) - (schedule.weekday ?? 1) + 7) % 7;
  if (dueOn(day) > nowMs) day -= schedule.kind === 'daily' ? 1 : 7;
  return schedule.kind === 'daily' ? dayPeriod(day - 1, timeZone) : weekPeriod(day - 7, timeZone);
}

/** 1 Monday … 7 Sunday of a day number (1970-01-01 was a Thursday). */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}
