import { z } from 'zod';
import type { Alert } from '../../core/records';
import type { Store } from '../../store/types';
import { bucketKeys, type Interval } from '../briefings/figures';
import type { ConsoleApi } from '../context';
import { notFound, parseInput } from '../request';

/**
 * 处理结果评估: how fast an incident was seen, told, taken up and closed, and how it spread
 * meanwhile (docs/console-api.md, "Review"). Meant for closed alerts; on an open one the moments
 * not reached yet are null.
 */

export interface ReviewMoments {
  /** Earliest published_at among the alert's documents (its cluster, matched by its topic). */
  first_published: string | null;
  /** Earliest fetched_at among them: when Shaobing first held a document of the story. */
  first_seen: string | null;
  /** The alert's opened_at: the publication time of the document that made the cluster an alert. */
  opened: string | null;
  /** The first delivery the notifier recorded as sent. */
  first_notified: string | null;
  /** The first acknowledgement in the alert's history. */
  acknowledged: string | null;
  /** The last close, while the alert is closed; null once reopened. */
  closed: string | null;
}

export interface Review {
  moments: ReviewMoments;
  /** Each from `first_published` to the moment, in ms; null while either is unknown. */
  durations_ms: { detect: number | null; notify: number | null; acknowledge: number | null; close: number | null };
  /** `hour` unless asked for `day`, or the span would take more than 14 days of hours. */
  interval: Interval;
  /** Documents and summed reposts per bucket, empty buckets included, around the moments. */
  curve: Array<{ key: string; documents: number; reposts: number }>;
}

/** Pages of earliest-published documents read at most, looking for the earliest fetch. */
const FIRST_SEEN_PAGES = 10;
const PAGE = 200;
const HOUR_MS = 3_600_000;
/** Beyond this many hourly buckets the curve is drawn per day. */
const MAX_HOURLY_BUCKETS = 24 * 14;

/**
 * A document cannot be fetched before it is published, so once documents are published after the
 * earliest fetch found so far, none later in publication order can beat it: reading in publication
 * order stops there, usually within the first page.
 */
async function earliestFetch(store: Store, alert: Alert): Promise<string | null> {
  let best: number | undefined;
  for (let page = 0; page < FIRST_SEEN_PAGES; page++) {
    const { items } = await store.searchDocuments({ cluster_id: [alert.cluster_id], topic: [alert.topic], order: 'asc', size: PAGE, offset: page * PAGE });
    for (const doc of items) {
      if (best !== undefined && Date.parse(doc.published_at) > best) return new Date(best).toISOString();
      const fetched = Date.parse(doc.fetched_at);
      best = best === undefined ? fetched : Math.min(best, fetched);
    }
    if (items.length < PAGE) break;
  }
  return best === undefined ? null : new Date(best).toISOString();
}

const iso = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? null : new Date(ms).toISOString());

export async function reviewAlert(store: Store, alert: Alert, options: { timeZone: string; now: Date; interval?: Interval }): Promise<Review> {
  const docs = { cluster_id: [alert.cluster_id], topic: [alert.topic] };
  const [summary, firstSeen, sent] = await Promise.all([
    store.summarizeDocuments(docs),
    earliestFetch(store, alert),
    store.searchDeliveries({ alert_id: [alert.id], status: ['sent'], order: 'asc', size: 1 }),
  ]);
  const historyAt = (action: Alert['history'][number]['action'], which: 'first' | 'last') => {
    const entries = alert.history.filter((h) => h.action === action);
    const entry = which === 'first' ? entries[0] : entries[entries.length - 1];
    return entry ? Date.parse(entry.at) : undefined;
  };
  const moments: ReviewMoments = {
    first_published: iso(summary.first_at ? Date.parse(summary.first_at) : Date.parse(alert.first_seen_at)),
    first_seen: firstSeen,
    opened: iso(Date.parse(alert.opened_at)),
    first_notified: iso(sent.items[0] ? Date.parse(sent.items[0].at) : undefined),
    acknowledged: iso(historyAt('acknowledged', 'first')),
    closed: alert.status === 'closed' ? iso(historyAt('closed', 'last')) : null,
  };
  const since = (moment: string | null) =>
    moment === null || moments.first_published === null ? null : Date.parse(moment) - Date.parse(moments.first_published);

  // The curve spans the story and every moment, an hour either side.
  const times = [...Object.values(moments), summary.last_at ?? null].filter((t): t is string => t !== null).map(Date.parse);
  const from = Math.min(...times) - HOUR_MS;
  const to = Math.min(Math.max(...times) + HOUR_MS, options.now.getTime() + HOUR_MS);
  // Hourly is what a review wants, unless a long-lived story would make it thousands of bars.
  const interval = (to - from) / HOUR_MS > MAX_HOURLY_BUCKETS ? 'day' : (options.interval ?? 'hour');
  const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  const buckets = await store.aggregateDocuments({ ...docs, time: range }, { date_histogram: interval, time_zone: options.timeZone, sum: 'reposts' });
  const byKey = new Map(buckets.map((b) => [b.key, b]));
  return {
    moments,
    durations_ms: {
      detect: since(moments.first_seen),
      notify: since(moments.first_notified),
      acknowledge: since(moments.acknowledged),
      close: since(moments.closed),
    },
    interval,
    curve: bucketKeys(range.from, range.to, interval, options.timeZone).map((key) => ({
      key,
      documents: byKey.get(key)?.count ?? 0,
      reposts: byKey.get(key)?.sum ?? 0,
    })),
  };
}

const Params = z.strictObject({ id: z.string().min(1).max(200) });
const Query = z.strictObject({ interval: z.enum(['hour', 'day']).optional() });

export const reviewApi: ConsoleApi = async (app, services) => {
  app.get('/alerts/:id/review', async (request) => {
    const { id } = parseInput(Params, request.params, 'params');
    const { interval } = parseInput(Query, request.query, 'query');
    const found = await services.store.getAlert(id);
    if (!found) throw notFound(`alert ${id}`);
    return reviewAlert(services.store, found.value, { timeZone: services.config.console.time_zone, now: services.now(), ...(interval ? { interval } : {}) });
  });
};
