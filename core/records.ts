import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The four records that cross Shaobing's boundaries. Each is one zod schema, imported by every stage;
 * data entering from outside (the bus, HTTP, files) is parsed with these before use.
 */

export const PLATFORMS = ['news', 'rss', 'weibo', 'wechat'] as const;
export const Platform = z.enum(PLATFORMS);
export type Platform = z.infer<typeof Platform>;

/** 1 一级 severe, 2 二级 notable, 3 三级 minor. */
export const Level = z.union([z.literal(1), z.literal(2), z.literal(3)]);
export type Level = z.infer<typeof Level>;

/** Authority of a source, used by the level policy (issue: rules). */
export const AUTHOR_TIERS = ['central', 'provincial', 'local', 'verified', 'ordinary'] as const;
export const AuthorTier = z.enum(AUTHOR_TIERS);

const IsoTime = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0);

export const Document = z.strictObject({
  /** Hash of the canonical URL or of the platform's own post id: the same item always gets the same id. */
  id: z.string().regex(/^[0-9a-f]{16,64}$/, 'a lower-case hex digest'),
  platform: Platform,
  source: z.string().min(1).max(200),
  /** http(s) only: a `javascript:` or `data:` URL is a script waiting for the console to render it. */
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
  title: z.string().max(1000),
  text: z.string(),
  html: z.string().optional(),
  author: z.string().max(200).optional(),
  published_at: IsoTime,
  fetched_at: IsoTime,
  metrics: z
    .strictObject({ reposts: Count.optional(), comments: Count.optional(), likes: Count.optional(), author_followers: Count.optional() })
    .optional(),
  author_verified: z.boolean().optional(),
  author_tier: AuthorTier.optional(),
  /** For a repost: the id of the document it reposts. */
  parent_id: z.string().optional(),
  lang: z.string().max(20).optional(),
});
export type Document = z.infer<typeof Document>;

/** A match of one topic on one document, as the pipeline stores it beside the document. */
export const TopicMatch = z.strictObject({
  topic: z.string(),
  score: z.number().min(0).max(1),
  sentiment: z.number().min(-1).max(1),
  level: Level,
});

/** What the store keeps: the document plus what the pipeline learnt about it. */
export const IndexedDocument = Document.extend({
  /** jieba tokens of title and text joined by spaces: the search engine's text field. */
  tokens: z.string().optional(),
  cluster_id: z.string().optional(),
  matches: z.array(TopicMatch).optional(),
  /** Topic ids of `matches`, kept flat for filtering. */
  topics: z.array(z.string()).optional(),
  sentiment: z.number().min(-1).max(1).optional(),
  /** The most severe level among the matches. */
  level: Level.optional(),
  /** MinHash of the text's character trigrams (64 × 32 bits in hex) and its LSH bands, for near-duplicate lookups. */
  fingerprint: z.string().regex(/^[0-9a-f]{512}$/).optional(),
  fingerprint_bands: z.array(z.string()).optional(),
  indexed_at: IsoTime.optional(),
});
export type IndexedDocument = z.infer<typeof IndexedDocument>;

export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export const AlertStatus = z.enum(ALERT_STATUSES);
export type AlertStatus = z.infer<typeof AlertStatus>;

export const HISTORY_ACTIONS = [
  'opened', 'updated', 'escalated', 'acknowledged', 'assigned', 'noted', 'level_changed', 'closed', 'reopened',
] as const;

/** One line of the incident record (舆情台账): who did what, when and why. */
export const AlertHistoryEntry = z.strictObject({
  at: IsoTime,
  action: z.enum(HISTORY_ACTIONS),
  /** `system` for the pipeline, else a user name or a duty person's id. */
  by: z.string().min(1),
  note: z.string().max(10000).optional(),
  from_level: Level.optional(),
  to_level: Level.optional(),
  /** How an acknowledgement arrived: console, link, sms-reply… */
  via: z.string().optional(),
});
export type AlertHistoryEntry = z.infer<typeof AlertHistoryEntry>;

export const ALERT_EVENT_TYPES = ['opened', 'escalated', 'reopened', 'resolved'] as const;

/** What the duty notifier acts on. */
export const AlertEvent = z.strictObject({
  /** Deterministic (alert id + what happened), so a redelivered event is recognised. */
  id: z.string(),
  type: z.enum(ALERT_EVENT_TYPES),
  alert_id: z.string(),
  topic: z.string(),
  title: z.string(),
  level: Level,
  policy: z.string().optional(),
  at: IsoTime,
});
export type AlertEvent = z.infer<typeof AlertEvent>;

/** One alert per (topic, event cluster), for the whole life of the incident. */
export const Alert = z.strictObject({
  id: z.string(),
  topic: z.string(),
  topic_name: z.string().optional(),
  cluster_id: z.string(),
  /** Duty policy the notifier applies. */
  policy: z.string().optional(),
  level: Level,
  /** Why this level: one sentence per rule that applied (rules/level.ts). */
  level_reasons: z.array(z.string()).optional(),
  status: AlertStatus,
  title: z.string(),
  /** Tokens of title and topic name, for text search. */
  tokens: z.string().optional(),
  first_seen_at: IsoTime,
  last_seen_at: IsoTime,
  opened_at: IsoTime,
  updated_at: IsoTime,
  doc_count: Count,
  sources: z.array(z.string()),
  platforms: z.array(Platform),
  total_reposts: Count,
  total_comments: Count.optional(),
  /** Most documents of the cluster published within one clock hour. */
  growth_per_hour: Count.optional(),
  /** The most negative topic-aware sentiment among the cluster's documents. */
  sentiment: z.number().min(-1).max(1).optional(),
  /** Severity words (死亡, 爆炸…) found in any document of the cluster. */
  severity_words: z.array(z.string()).optional(),
  /** The most authoritative source tier seen in the cluster. */
  author_tier: AuthorTier.optional(),
  assignee: z.string().optional(),
  /** Documents in the cluster when it was closed: it reopens when the cluster grows past that. */
  closed_doc_count: Count.optional(),
  history: z.array(AlertHistoryEntry),
  /** Events stored with the change that caused them and cleared once published: none lost in a crash. */
  outbox: z.array(AlertEvent).optional(),
});
export type Alert = z.infer<typeof Alert>;


export const CHANNELS = ['sms', 'voice', 'wecom', 'dingtalk', 'feishu', 'email', 'webhook'] as const;

/** One attempt to reach one person on one channel. */
export const Delivery = z.strictObject({
  id: z.string(),
  alert_id: z.string(),
  event_id: z.string(),
  person: z.string(),
  channel: z.enum(CHANNELS),
  /** Masked (138****0000), never the full number or address. */
  recipient: z.string(),
  attempt: z.number().int().min(1),
  /** `held`: not sent, over the person's hourly cap; told in a later summary (the notifier's restarts rebuild it from this). */
  status: z.enum(['sent', 'failed', 'held']),
  error: z.string().optional(),
  latency_ms: z.number().min(0),
  at: IsoTime,
  /** What a digest or summary listed (`<alert id>@<time>` per digest item, the held messages' event_id per summary), so a restart lists nothing twice. */
  carries: z.array(z.string()).optional(),
});
export type Delivery = z.infer<typeof Delivery>;

/** Stable ids from stable parts: a redelivered message must map to the same record. */
export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export const OPERATOR_NOTICE_KINDS = ['source_failing', 'source_blocked', 'source_recovered'] as const;

/**
 * Something operators (not the duty roster for public opinion) must hear about: a collector source
 * failing N rounds in a row, blocked by its platform (captcha, 432, expired cookie), or back to health.
 */
export const OperatorNotice = z.strictObject({
  /** Deterministic (source + kind + the streak's start), so a repeated notice is recognised. */
  id: z.string(),
  kind: z.enum(OPERATOR_NOTICE_KINDS),
  /** The component that raises it, e.g. `collector`. */
  component: z.string().min(1),
  /** The source's configured name. */
  source: z.string().min(1),
  platform: Platform.optional(),
  /** Said plainly: "feed 新华网 unreachable since 10:20 (5 failed rounds): SB_COLLECT_FETCH_FAILED …". */
  message: z.string(),
  error_code: z.string().optional(),
  error_streak: z.number().int().min(0),
  since: IsoTime.optional(),
  at: IsoTime,
});
export type OperatorNotice = z.infer<typeof OperatorNotice>;

/** One state change made in the console or by a CLI command: who, what, when, before and after. */
export const AuditEntry = z.strictObject({
  id: z.string(),
  at: IsoTime,
  /** A console user's name, or `cli:<os user>` for a command run on the server. */
  user: z.string().min(1),
  /** A dotted verb: `alert.acknowledge`, `rules.save`, `user.add`… */
  action: z.string().min(1),
  /** What changed: `alert:<id>`, `topics:<file>`, `user:<name>`. */
  target: z.string().min(1),
  /** The changed part before and after; secrets (password hashes) never appear. */
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  note: z.string().max(10000).optional(),
  /** The client's address, for console requests. */
  ip: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
