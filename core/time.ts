/**
 * Wall-clock time in IANA zones with nothing but Intl. Duty staff, rosters and Chinese news pages
 * speak local time ("handover at 09:00", "2024年03月05日 10:20"); records and schedules speak instants.
 */

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

export interface LocalTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 Monday … 7 Sunday (ISO). */
  weekday: number;
  /** Minutes east of UTC at that instant. */
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const DAY_MS = 86_400_000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
      timeZoneName: 'longOffset',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function localTime(instantMs: number, timeZone: string = DEFAULT_TIME_ZONE): LocalTime {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(instantMs)).map((p) => [p.type, p.value]));
  const offset = /GMT(?:([+-])(\d{2}):?(\d{2}))?/.exec(parts.timeZoneName ?? 'GMT');
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
    offsetMinutes: offset?.[1] ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0,
  };
}

/**
 * The instant a local wall-clock time names. Two passes settle daylight-saving edges: in a gap
 * the later side is taken, in an overlap the earlier. (China has had none since 1991; rosters may
 * use any zone.)
 */
export function instantOf(year: number, month: number, day: number, hour: number, minute: number, second = 0, timeZone: string = DEFAULT_TIME_ZONE): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const guess = wall - localTime(wall, timeZone).offsetMinutes * 60_000;
  return wall - localTime(guess, timeZone).offsetMinutes * 60_000;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO 8601 with the zone's own offset, seconds precision: `2024-03-05T10:20:00+08:00`. */
export function formatIsoInZone(instant: Date | number, timeZone: string = DEFAULT_TIME_ZONE): string {
  const t = localTime(typeof instant === 'number' ? instant : instant.getTime(), timeZone);
  const sign = t.offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(t.offsetMinutes);
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Days since 1970-01-01 of a calendar date (zone-free: a day number to count shifts with). */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
}

export function dateOfDayNumber(n: number): { year: number; month: number; day: number } {
  const d = new Date(n * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** "HH:MM" → minutes after midnight. */
export function parseClock(text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new Error(`not a time of day (HH:MM): ${text}`);
  return Number(m[1]) * 60 + Number(m[2]);
}
