import { AUTHOR_TIERS, stableId, type Alert, type AlertEvent, type AlertHistoryEntry, type Level } from '../core/records';
import type { DocumentSummary } from '../store/types';

/**
 * Folds what the pipeline learnt about one (topic, cluster) into its alert. Pure, and idempotent:
 * figures come from a summary recomputed from the stored documents, and the other signals merge
 * by min / union / best, so folding the same documents twice changes nothing. Times are the
 * documents' own, so a replay yields the same record as the first run.
 */

type AuthorTier = (typeof AUTHOR_TIERS)[number];

export interface AlertTopic {
  id: string;
  name: string;
  /** Base level of the topic. */
  level: Level;
  /** Duty policy the notifier applies. */
  policy: string;
}

/** What this batch's matching documents say about the cluster. */
export interface ClusterSignals {
  /** Most negative topic-aware sentiment among them. */
  sentiment: number;
  severity_words: readonly string[];
  author_tier?: AuthorTier;
  /** Title and time of the earliest of them: the alert's title and opening time when it is new. */
  title: string;
  at: string;
  /** Tokens of the title, for text search. */
  tokens?: string;
}

export interface LevelInputs {
  base: Level;
  sentiment: number;
  severityWords: readonly string[];
  authorTier?: AuthorTier;
  clusterSize: number;
  reposts: number;
  comments: number;
  growthPerHour: number;
}

export interface FoldOptions {
  /** The level policy (rules/level.ts decideLevel with the configured policy). */
  decide: (inputs: LevelInputs) => { level: Level; reasons: string[] };
  /** A closed alert reopens once its cluster has grown by this many documents; default 5. */
  reopenAfterDocs?: number;
}

export function alertId(topic: string, cluster: string): string {
  return stableId('alert', topic, cluster);
}

/** The alert after folding, or undefined when nothing changed (no write needed). */
export function foldAlert(
  existing: Alert | undefined,
  input: {
    topic: AlertTopic;
    cluster_id: string;
    signals: ClusterSignals;
    /** The cluster as it stood at the document's time: what the level is decided on, and when. */
    summary: DocumentSummary;
    /**
     * The cluster as stored now, for the alert's figures; default `summary`. A document that
     * arrives late (published before others already folded) must not set the figures back.
     */
    totals?: DocumentSummary;
  },
  options: FoldOptions,
): Alert | undefined {
  const { topic, cluster_id, signals, summary } = input;
  const totals = input.totals ?? summary;
  const merged = {
    sentiment: Math.min(signals.sentiment, existing?.sentiment ?? 1),
    severity_words: [...new Set([...(existing?.severity_words ?? []), ...signals.severity_words])].sort(),
    author_tier: bestTier(existing?.author_tier, signals.author_tier),
  };
  const decision = options.decide({
    base: topic.level,
    sentiment: merged.sentiment,
    severityWords: merged.severity_words,
    ...(merged.author_tier ? { authorTier: merged.author_tier } : {}),
    clusterSize: summary.count,
    reposts: summary.reposts,
    comments: summary.comments,
    growthPerHour: summary.peak_per_hour,
  });
  const lastAt = summary.last_at ?? signals.at;
  const figures = {
    first_seen_at: totals.first_at ?? signals.at,
    last_seen_at: totals.last_at ?? lastAt,
    doc_count: totals.count,
    sources: totals.sources.map((b) => b.key),
    platforms: totals.platforms.map((b) => b.key) as Alert['platforms'],
    total_reposts: totals.reposts,
    total_comments: totals.comments,
    growth_per_hour: totals.peak_per_hour,
    sentiment: merged.sentiment,
    severity_words: merged.severity_words,
    ...(merged.author_tier ? { author_tier: merged.author_tier } : {}),
  };

  if (!existing) {
    const id = alertId(topic.id, cluster_id);
    const alert: Alert = {
      id,
      topic: topic.id,
      topic_name: topic.name,
      cluster_id,
      policy: topic.policy,
      level: decision.level,
      level_reasons: decision.reasons,
      status: 'open',
      title: signals.title,
      ...(signals.tokens ? { tokens: signals.tokens } : {}),
      opened_at: signals.at,
      updated_at: lastAt,
      ...figures,
      history: [{ at: signals.at, action: 'opened', by: 'system', to_level: decision.level, note: decision.reasons.join('；') }],
      outbox: [],
    };
    return withEvent(alert, 'opened', signals.at);
  }

  let next: Alert = { ...existing, ...figures };
  const reopenAfter = options.reopenAfterDocs ?? 5;
  const grew = summary.count - (existing.closed_doc_count ?? summary.count);
  const reopening = existing.status === 'closed' && grew >= reopenAfter;
  if (reopening) {
    next = {
      ...next,
      status: 'open',
      updated_at: lastAt,
      history: [...next.history, entry('reopened', lastAt, { note: `关闭后新增 ${grew} 篇相关报道，重新打开` })],
    };
  }
  // A closed incident stays quiet at its level until it reopens; then one event says both.
  if (decision.level < levelToBeat(existing) && next.status !== 'closed') {
    next = {
      ...next,
      level: decision.level,
      level_reasons: decision.reasons,
      updated_at: lastAt,
      history: [...next.history, entry('escalated', lastAt, { from_level: existing.level, to_level: decision.level, note: decision.reasons.join('；') })],
    };
    if (!reopening) next = withEvent(next, 'escalated', lastAt);
  }
  if (reopening) next = withEvent(next, 'reopened', lastAt);
  return sameRecord(existing, next) ? undefined : next;
}

/**
 * The level a new decision must beat to raise the alert. Normally its current level; but when the
 * level was last set by hand (with a reason), a person has judged it: the pipeline lowers nothing
 * anyway, and raises a lowered level again only when its own decision rises above what it had
 * decided before the change, i.e. when the story got worse.
 */
function levelToBeat(alert: Alert): Level {
  const setters = alert.history.filter((h) => h.to_level !== undefined);
  const last = setters.at(-1);
  if (!last || last.by === 'system' || last.action !== 'level_changed') return alert.level;
  const automatic = setters.findLast((h) => h.by === 'system');
  return Math.min(alert.level, automatic?.to_level ?? alert.level) as Level;
}

function entry(action: AlertHistoryEntry['action'], at: string, extra: Partial<AlertHistoryEntry>): AlertHistoryEntry {
  return { at, action, by: 'system', ...extra };
}

/** Deterministic event ids: a redelivered or re-folded event is the same event. */
function withEvent(alert: Alert, type: 'opened' | 'escalated' | 'reopened', at: string): Alert {
  const suffix =
    type === 'opened' ? 'opened' : type === 'escalated' ? `escalated:${alert.level}` : `reopened:${alert.history.filter((h) => h.action === 'reopened').length}`;
  const event: AlertEvent = {
    id: `${alert.id}:${suffix}`,
    type,
    alert_id: alert.id,
    topic: alert.topic,
    title: alert.title,
    level: alert.level,
    ...(alert.policy ? { policy: alert.policy } : {}),
    at,
  };
  const outbox = alert.outbox ?? [];
  return outbox.some((e) => e.id === event.id) ? alert : { ...alert, outbox: [...outbox, event] };
}

function bestTier(a: AuthorTier | undefined, b: AuthorTier | undefined): AuthorTier | undefined {
  if (!a) return b;
  if (!b) return a;
  return AUTHOR_TIERS.indexOf(a) <= AUTHOR_TIERS.indexOf(b) ? a : b;
}

function sameRecord(a: Alert, b: Alert): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
