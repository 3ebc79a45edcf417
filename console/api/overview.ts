import { z } from 'zod';
import { periodFigures } from '../briefings/figures';
import type { ConsoleApi, ConsoleServices } from '../context';
import { ConsoleError, parseInput } from '../request';

/**
 * The dashboard's figures (docs/console-api.md, "Overview"): one request, all through Store
 * aggregations, bucketed by calendar hour or day in `console.time_zone`.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Longest span at all, and at hourly resolution (a chart of more buckets is unreadable anyway). */
const MAX_SPAN_MS = 366 * DAY_MS;
const MAX_HOURLY_SPAN_MS = 31 * DAY_MS;

const Instant = z.iso.datetime({ offset: true });
const OverviewQuery = z.strictObject({
  /** Default: `to` less 7 days. */
  from: Instant.optional(),
  /** Default: now. */
  to: Instant.optional(),
  /** Default: hour for spans up to 2 days, else day. */
  interval: z.enum(['hour', 'day']).optional(),
  /** Top sources and topics; default 10. */
  top: z.coerce.number().int().min(1).max(100).optional(),
});

/** A name for each topic id the running rules know. */
export function topicNames(services: Pick<ConsoleServices, 'rules'>): (id: string) => string | undefined {
  const names = new Map((services.rules.current?.topics ?? []).map((t) => [t.id, t.name]));
  return (id) => names.get(id);
}

export const overviewApi: ConsoleApi = async (app, services) => {
  app.get('/overview', async (request) => {
    const q = parseInput(OverviewQuery, request.query, 'query');
    const to = q.to ? Date.parse(q.to) : services.now().getTime();
    const from = q.from ? Date.parse(q.from) : to - 7 * DAY_MS;
    const span = to - from;
    if (span <= 0) throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', 'query.from: must be before query.to');
    if (span > MAX_SPAN_MS) throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', 'query.from: the span may be at most 366 days');
    const interval = q.interval ?? (span <= 2 * DAY_MS ? 'hour' : 'day');
    if (interval === 'hour' && span > MAX_HOURLY_SPAN_MS) {
      throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', 'query.interval: hourly buckets cover at most 31 days; use interval=day');
    }
    const timeZone = services.config.console.time_zone;
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    const figures = await periodFigures(services.store, { ...range, interval, timeZone, ...(q.top ? { top: q.top } : {}), topicName: topicNames(services) });
    return { ...range, interval, time_zone: timeZone, ...figures };
  });
};
