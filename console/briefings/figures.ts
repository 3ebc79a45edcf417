import type { Level } from '../../core/records';
import { dateOfDayNumber, dayNumber, instantOf, localTime } from '../../core/time';
import { DEFAULT_NEUTRAL_BAND } from '../../rules/sentiment';
import type { Bucket, DocumentQuery, NumberRange, Store } from '../../store/types';

/**
 * The figures of a time span that the overview page and the briefings both show, each from a Store
 * aggregation (never by loading the documents): volume over time, the sentiment split, alerts
 * opened by level, top sources, topics and platforms.
 */

export type Interval = 'hour' | 'day';

export interface FiguresQuery {
  /** Inclusive, ISO 8601. */
  from: string;
  /** Exclusive, ISO 8601. */
  to: string;
  interval: Interval;
  /** Buckets start at calendar boundaries here. */
  timeZone: string;
  /** How many top sources and topics; default 10. */
  top?: number;
  /** A topic's display name, when the running rules know it. */
  topicName?: (id: string) => string | undefined;
}

export const SENTIMENT_CLASSES = ['negative', 'neutral', 'positive'] as const;
export type SentimentClass = (typeof SENTIMENT_CLASSES)[number];

/**
 * The analyzer's labels as ranges: |score| < band is neutral, at or beyond it negative or positive
 * (rules/sentiment). The same cut as the documents' labels, so a count here matches what a
 * document's page calls it.
 */
export const SENTIMENT_RANGES: Record<SentimentClass, NumberRange> = {
  negative: { lte: -DEFAULT_NEUTRAL_BAND },
  neutral: { gt: -DEFAULT_NEUTRAL_BAND, lt: DEFAULT_NEUTRAL_BAND },
  positive: { gte: DEFAULT_NEUTRAL_BAND },
};

export const LEVELS: readonly Level[] = [1, 2, 3];
export type LevelCounts = Record<'1' | '2' | '3', number>;

export interface PeriodFigures {
  documents: {
    total: number;
    /** Sum of the documents' repost counts. */
    reposts: number;
    over_time: Array<{ key: string; documents: number; reposts: number }>;
  };
  sentiment: Record<SentimentClass, number> & {
    /** Documents stored without a sentiment. */
    unscored: number;
    neutral_band: number;
    over_time: Array<{ key: string } & Record<SentimentClass, number>>;
  };
  /** Alerts counted when they opened (`opened_at`), not when they were last active. */
  alerts: {
    basis: 'opened_at';
    total: number;
    by_level: LevelCounts;
    over_time: Array<{ key: string; total: number; by_level: LevelCounts }>;
  };
  top_sources: Bucket[];
  top_topics: Array<Bucket & { name?: string }>;
  platforms: Bucket[];
}

/** Start of the calendar hour or day holding `ms`, in the zone. */
function bucketStart(ms: number, interval: Interval, timeZone: string): number {
  const t = localTime(ms, timeZone);
  return instantOf(t.year, t.month, t.day, interval === 'hour' ? t.hour : 0, 0, 0, timeZone);
}

/**
 * Every bucket key from the one holding `from` to the one holding the last instant before `to`,
 * as the Store's histograms name them: charts get their empty hours and days too.
 */
export function bucketKeys(from: string, to: string, interval: Interval, timeZone: string): string[] {
  const keys: string[] = [];
  const end = Date.parse(to);
  for (let t = bucketStart(Date.parse(from), interval, timeZone); t < end; ) {
    keys.push(new Date(t).toISOString());
    if (interval === 'hour') t = bucketStart(t + 3_600_000, 'hour', timeZone);
    else {
      const l = localTime(t, timeZone);
      const next = dateOfDayNumber(dayNumber(l.year, l.month, l.day) + 1);
      t = instantOf(next.year, next.month, next.day, 0, 0, 0, timeZone);
    }
  }
  return keys;
}

const levelCounts = (): LevelCounts => ({ '1': 0, '2': 0, '3': 0 });
const sum = (buckets: Bucket[], pick: (b: Bucket) => number = (b) => b.count) => buckets.reduce((n, b) => n + pick(b), 0);
const countAt = (buckets: Bucket[]) => {
  const map = new Map(buckets.map((b) => [b.key, b.count]));
  return (key: string) => map.get(key) ?? 0;
};

export async function periodFigures(store: Store, q: FiguresQuery): Promise<PeriodFigures> {
  const time = { from: q.from, to: q.to };
  const base: DocumentQuery = { time };
  const histogram = { date_histogram: q.interval, time_zone: q.timeZone } as const;
  const top = q.top ?? 10;
  const [volume, bySentiment, byLevel, sources, topics, platforms] = await Promise.all([
    store.aggregateDocuments(base, { ...histogram, sum: 'reposts' }),
    Promise.all(SENTIMENT_CLASSES.map((c) => store.aggregateDocuments({ ...base, sentiment: SENTIMENT_RANGES[c] }, histogram))),
    Promise.all(LEVELS.map((level) => store.aggregateAlerts({ opened: time, level: [level] }, { ...histogram, field: 'opened_at' }))),
    store.aggregateDocuments(base, { terms: 'source', size: top }),
    store.aggregateDocuments(base, { terms: 'topics', size: top }),
    store.aggregateDocuments(base, { terms: 'platform', size: 10 }),
  ]);

  const keys = bucketKeys(q.from, q.to, q.interval, q.timeZone);
  const total = sum(volume);
  const volumeAt = new Map(volume.map((b) => [b.key, b]));
  const sentiment = Object.fromEntries(SENTIMENT_CLASSES.map((c, i) => [c, sum(bySentiment[i]!)])) as Record<SentimentClass, number>;
  const sentimentAt = bySentiment.map(countAt);
  const levelAt = byLevel.map(countAt);
  const alertsByLevel = levelCounts();
  LEVELS.forEach((level, i) => (alertsByLevel[`${level}`] = sum(byLevel[i]!)));

  return {
    documents: {
      total,
      reposts: sum(volume, (b) => b.sum ?? 0),
      over_time: keys.map((key) => ({ key, documents: volumeAt.get(key)?.count ?? 0, reposts: volumeAt.get(key)?.sum ?? 0 })),
    },
    sentiment: {
      ...sentiment,
      unscored: total - SENTIMENT_CLASSES.reduce((n, c) => n + sentiment[c], 0),
      neutral_band: DEFAULT_NEUTRAL_BAND,
      over_time: keys.map((key) => ({
        key,
        ...(Object.fromEntries(SENTIMENT_CLASSES.map((c, i) => [c, sentimentAt[i]!(key)])) as Record<SentimentClass, number>),
      })),
    },
    alerts: {
      basis: 'opened_at',
      total: sum(byLevel.flat()),
      by_level: alertsByLevel,
      over_time: keys.map((key) => {
        const counts = levelCounts();
        LEVELS.forEach((level, i) => (counts[`${level}`] = levelAt[i]!(key)));
        return { key, total: counts['1'] + counts['2'] + counts['3'], by_level: counts };
      }),
    },
    top_sources: sources,
    top_topics: topics.map((b) => {
      const name = q.topicName?.(b.key);
      return name ? { ...b, name } : b;
    }),
    platforms,
  };
}
