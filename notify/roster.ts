import { z } from 'zod';
import { loadYamlFile } from '../core/yaml-file';
import { dateOfDayNumber, dayNumber, instantOf, isTimeZone, localTime, parseClock } from '../core/time';

/**
 * The duty roster (值班表): people, rotations, overrides, read from its own YAML file
 * (`notify.roster` in shaobing.yaml) with the same file:line:col errors as every other file.
 *
 * ```yaml
 * time_zone: Asia/Shanghai          # default
 * people:
 *   - { id: zhang, name: 张三, mobile: "13800000001", email: zhang@example.cn, dingtalk: "13800000001" }
 *   - { id: li, name: 李四, mobile: "13800000002" }
 *   - { id: zhao, name: 赵主任, mobile: "13800000009" }
 * leaders: [zhao]                   # the team leader(s) 一级 pages at once
 * next_tier: []                     # who an unacknowledged 一级 escalates to
 * rotations:
 *   - id: primary
 *     shift: daily                  # or weekly
 *     handover: "09:00"             # local time the shift changes hands
 *     start: 2026-03-02             # the first shift starts at the handover time of this date
 *     members: [zhang, li]          # in turn
 * overrides:                        # holidays and swaps: the latest listed wins
 *   - { rotation: primary, person: li, from: 2026-10-01 09:00, to: 2026-10-08 09:00, reason: 国庆值班 }
 * ```
 *
 * Everything here is pure: who is on duty at an instant is a function of the roster and the instant.
 */

const PersonId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-"');
const Mobile = z.string().regex(/^\+?\d{6,15}$/, 'a phone number: digits, optionally with a leading +');
const Clock = z.string().refine((s) => /^([01]\d|2[0-3]):([0-5]\d)$/.test(s), 'a time of day as "HH:MM"');
const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
/** Local time in the roster's zone ("2026-10-01 09:00"), or an ISO 8601 instant with an offset. */
const LocalDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$/, 'a date and time as "YYYY-MM-DD HH:MM" (roster time zone) or ISO 8601 with offset');

export const PersonSchema = z.strictObject({
  id: PersonId,
  name: z.string().min(1).max(100),
  mobile: Mobile.optional(),
  email: z.email().optional(),
  /** WeCom user id or mobile, to @mention in the WeCom group robot. */
  wecom: z.string().min(1).optional(),
  /** Mobile registered with DingTalk, to @mention in the DingTalk robot. */
  dingtalk: z.string().min(1).optional(),
  /** Feishu open_id (ou_…), to @mention in the Feishu bot. */
  feishu: z.string().min(1).optional(),
});
export type Person = z.infer<typeof PersonSchema>;

export const RotationSchema = z.strictObject({
  id: PersonId,
  /** daily: a new person every day; weekly: every 7 days. */
  shift: z.enum(['daily', 'weekly']),
  /** Local time at which one shift hands over to the next; default 09:00. */
  handover: Clock.default('09:00'),
  /** Date of the first shift (it starts at `handover` that day); a weekly rotation hands over on this weekday. */
  start: LocalDate,
  members: z.array(PersonId).min(1),
});
export type Rotation = z.infer<typeof RotationSchema>;

export const OverrideSchema = z.strictObject({
  /** Which rotation it replaces; default every rotation. */
  rotation: PersonId.optional(),
  person: PersonId,
  from: LocalDateTime,
  to: LocalDateTime,
  reason: z.string().max(200).optional(),
});

export const RosterSchema = z
  .strictObject({
    time_zone: z.string().refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai').default('Asia/Shanghai'),
    people: z.array(PersonSchema).min(1),
    /** Team leader(s): paged at once for 一级, after the delay for 二级. */
    leaders: z.array(PersonId).default([]),
    /** The tier above: paged when a 一级 stays unacknowledged. */
    next_tier: z.array(PersonId).default([]),
    rotations: z.array(RotationSchema).min(1),
    overrides: z.array(OverrideSchema).default([]),
  })
  .superRefine((roster, ctx) => {
    const ids = new Set<string>();
    roster.people.forEach((p, i) => {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['people', i, 'id'], message: `duplicate person id "${p.id}"` });
      ids.add(p.id);
    });
    const known = (id: string, path: Array<string | number>) => {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path, message: `unknown person "${id}" (not in people)` });
    };
    roster.leaders.forEach((id, i) => known(id, ['leaders', i]));
    roster.next_tier.forEach((id, i) => known(id, ['next_tier', i]));
    const rotations = new Set<string>();
    roster.rotations.forEach((r, i) => {
      if (rotations.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rotations', i, 'id'], message: `duplicate rotation id "${r.id}"` });
      rotations.add(r.id);
      r.members.forEach((id, j) => known(id, ['rotations', i, 'members', j]));
    });
    roster.overrides.forEach((o, i) => {
      known(o.person, ['overrides', i, 'person']);
      if (o.rotation && !rotations.has(o.rotation)) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'rotation'], message: `unknown rotation "${o.rotation}"` });
      if (parseLocalDateTime(o.to, roster.time_zone) <= parseLocalDateTime(o.from, roster.time_zone)) {
        ctx.addIssue({ code: 'custom', path: ['overrides', i, 'to'], message: '"to" must be after "from"' });
      }
    });
  });
export type Roster = z.output<typeof RosterSchema>;

export function loadRoster(file: string): Roster {
  return loadYamlFile(file, RosterSchema);
}

/** "2026-10-01 09:00" in the zone, or an ISO instant with its own offset → epoch ms. */
export function parseLocalDateTime(text: string, timeZone: string): number {
  if (/(Z|[+-]\d{2}:\d{2})$/.test(text)) return Date.parse(text.replace(' ', 'T'));
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})/.exec(text);
  if (!m) return NaN;
  return instantOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), 0, timeZone);
}

export interface DutyShift {
  rotation: string;
  person: string;
  /** The shift (or override) this person holds, epoch ms, `to` exclusive. */
  from: number;
  to: number;
  source: 'rotation' | 'override';
  reason?: string;
}

/** The rotation's own shift at an instant, overrides ignored; undefined before the rotation starts. */
export function rotationShift(rotation: Rotation, at: number, timeZone: string): DutyShift | undefined {
  const handover = parseClock(rotation.handover);
  const period = rotation.shift === 'daily' ? 1 : 7;
  const [sy, sm, sd] = rotation.start.split('-').map(Number) as [number, number, number];
  const startDay = dayNumber(sy, sm, sd);
  const local = localTime(at, timeZone);
  let day = dayNumber(local.year, local.month, local.day);
  if (local.hour * 60 + local.minute < handover) day -= 1;
  const index = Math.floor((day - startDay) / period);
  if (index < 0) return undefined;
  const bound = (k: number) => {
    const d = dateOfDayNumber(startDay + k * period);
    return instantOf(d.year, d.month, d.day, Math.floor(handover / 60), handover % 60, 0, timeZone);
  };
  return {
    rotation: rotation.id,
    person: rotation.members[index % rotation.members.length]!,
    from: bound(index),
    to: bound(index + 1),
    source: 'rotation',
  };
}

/** Who holds each rotation at `at`: the rotation's turn unless an override covers the instant (the latest listed wins). */
export function onDuty(roster: Roster, at: number): DutyShift[] {
  const shifts: DutyShift[] = [];
  for (const rotation of roster.rotations) {
    const override = [...roster.overrides].reverse().find((o) => {
      if (o.rotation && o.rotation !== rotation.id) return false;
      return parseLocalDateTime(o.from, roster.time_zone) <= at && at < parseLocalDateTime(o.to, roster.time_zone);
    });
    if (override) {
      shifts.push({
        rotation: rotation.id,
        person: override.person,
        from: parseLocalDateTime(override.from, roster.time_zone),
        to: parseLocalDateTime(override.to, roster.time_zone),
        source: 'override',
        ...(override.reason ? { reason: override.reason } : {}),
      });
      continue;
    }
    const shift = rotationShift(rotation, at, roster.time_zone);
    if (shift) shifts.push(shift);
  }
  return shifts;
}

/** The person on duty for one rotation (default: the first), or undefined when nobody is. */
export function dutyPerson(roster: Roster, at: number, rotation?: string): string | undefined {
  const id = rotation ?? roster.rotations[0]?.id;
  return onDuty(roster, at).find((s) => s.rotation === id)?.person;
}

export function personById(roster: Roster, id: string): Person | undefined {
  return roster.people.find((p) => p.id === id);
}
