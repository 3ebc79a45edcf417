import { z } from 'zod';
import { DEFAULT_TIME_ZONE, isTimeZone } from '../core/time';

/**
 * `console:` in shaobing.yaml: the web console and its API, served on the daemon's HTTP server
 * (`http.host:port`) by the `console` role. Paths are relative to the config file; without them,
 * everything the console keeps lives under `<data_dir>/console/`.
 */

const Clock = z.string().regex(/^([01]\d|2[0-3]):([0-5]\d)$/, 'a time of day as "HH:MM"');

export const CONSOLE_LANGUAGES = ['zh-CN', 'en'] as const;

const BriefingsSchema = z.strictObject({
  /** 日报: the previous calendar day, generated at this local time. */
  daily: z.strictObject({ enabled: z.boolean().default(true), at: Clock.default('08:00') }).prefault({}),
  /** 周报: the previous Monday–Sunday, generated on this weekday (1 = Monday … 7 = Sunday). */
  weekly: z
    .strictObject({ enabled: z.boolean().default(true), weekday: z.number().int().min(1).max(7).default(1), at: Clock.default('08:30') })
    .prefault({}),
  /** E-mail addresses the scheduled briefings go to, through `notify.channels.email`. */
  recipients: z.array(z.email()).default([]),
  /** Where generated briefings are kept; default `<data_dir>/console/briefings`. */
  dir: z.string().optional(),
});

export const ConsoleSchema = z.strictObject({
  /** `shaobing run` serves the console unless this is false (or --role leaves `console` out). */
  enabled: z.boolean().default(true),
  /** The interface's default language; each user can switch. */
  language: z.enum(CONSOLE_LANGUAGES).default('zh-CN'),
  /** Times on pages and in briefings are shown in this zone. */
  time_zone: z.string().refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai').default(DEFAULT_TIME_ZONE),
  /** The console's address as duty staff reach it, for links in briefings and messages. */
  public_url: z.url().optional(),
  /** Local users (`shaobing user add|passwd|disable`); default `<data_dir>/console/users.json`. */
  users_file: z.string().optional(),
  /** A signed-in session lasts this long without activity. */
  session_hours: z.number().min(0.25).max(24 * 30).default(12),
  /** Failed sign-ins allowed per user name and per address within the window before further tries are refused. */
  login_rate_limit: z
    .strictObject({ max: z.number().int().min(1).default(10), window_minutes: z.number().int().min(1).default(15) })
    .prefault({}),
  /** Saved versions of topic files, with author and time; default `<data_dir>/console/rules-history`. */
  rules_history_dir: z.string().optional(),
  /** Limits of a backtest: how far back, and how many stored documents at most. */
  backtest: z
    .strictObject({ max_days: z.number().int().min(1).max(365).default(30), max_documents: z.number().int().min(100).default(50_000) })
    .prefault({}),
  briefings: BriefingsSchema.prefault({}),
});

export type ConsoleConfig = z.output<typeof ConsoleSchema>;
