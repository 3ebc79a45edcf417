import { z } from 'zod';
import { type ActionInput, applyAction } from '../../alerts/lifecycle';
import { ALERT_STATUSES, type Alert, type IndexedDocument, PLATFORMS } from '../../core/records';
import { topicKeywords } from '../../rules/topics';
import { createTokenizer, type Tokenizer } from '../../rules/tokenizer';
import type { Store, Versioned } from '../../store/types';
import { alertItem } from '../alert-feed';
import type { ConsoleApi, ConsoleServices } from '../context';
import { ConsoleError, notFound, parseInput, userOf } from '../request';

/**
 * The alert queue and one alert's page: its documents with the topic's keywords located in the
 * original text, its spread over time, the notifier's deliveries, and the handling actions
 * (处置: acknowledge, assign, note, change level, close, reopen). Every action goes through the
 * alert lifecycle (alerts/lifecycle.ts), is written with the version the client saw (409
 * SB_STORE_CONFLICT when someone changed the alert meanwhile), is audited, and is pushed to the
 * live feed at once. Duty staff, analysts and admins may all handle alerts.
 */

const IsoTime = z.iso.datetime({ offset: true });

/** `1,2` or repeated parameters, into a list of allowed values. */
function list<T extends string>(values: readonly T[]) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => [v].flat().flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values as unknown as [T, ...T[]])).max(20));
}

const QueueQuery = z.strictObject({
  level: list(['1', '2', '3']).optional(),
  status: list(ALERT_STATUSES).optional(),
  topic: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => [v].flat().flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
    .optional(),
  platform: list(PLATFORMS).optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  q: z.string().trim().max(200).optional(),
  order: z.enum(['severity', 'recent']).default('severity'),
  size: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
});

const IdParam = z.strictObject({ id: z.string().regex(/^[0-9a-f]{8,64}$/, 'an alert id') });
const PageQuery = z.strictObject({
  size: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  order: z.enum(['asc', 'desc']).default('asc'),
});
const TimelineQuery = z.strictObject({ interval: z.enum(['hour', 'day']).default('hour') });

const Version = z.string().min(1).max(100);
const Note = z.string().trim().min(1).max(10_000);
const ActionBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('acknowledge'), version: Version, note: Note.optional() }),
  z.strictObject({ action: z.literal('assign'), version: Version, assignee: z.string().trim().min(1).max(100), note: Note.optional() }),
  z.strictObject({ action: z.literal('note'), version: Version, note: Note }),
  /** `note` is the reason for the change, and is required. */
  z.strictObject({ action: z.literal('level'), version: Version, level: z.union([z.literal(1), z.literal(2), z.literal(3)]), note: Note }),
  z.strictObject({ action: z.literal('close'), version: Version, summary: Note, note: Note.optional() }),
  /** `note` says why it is reopened, and is required (the lifecycle asks for a reason). */
  z.strictObject({ action: z.literal('reopen'), version: Version, note: Note }),
]);
type ActionBody = z.output<typeof ActionBody>;

export interface Hit {
  field: 'title' | 'text';
  start: number;
  end: number;
  keyword: string;
}

/** The documents an alert is made of: its topic's matches in its cluster (the same set as its doc_count). */
function alertDocuments(alert: Alert) {
  return { topic: [alert.topic], cluster_id: [alert.cluster_id] };
}

/** The spread of an alert's cluster: documents and reposts per hour or day in the console's time zone. */
export async function spreadCurve(store: Store, alert: Alert, interval: 'hour' | 'day', timeZone: string): Promise<Array<{ key: string; documents: number; reposts: number }>> {
  const buckets = await store.aggregateDocuments(alertDocuments(alert), { date_histogram: interval, time_zone: timeZone, sum: 'reposts' });
  return buckets.map((b) => ({ key: b.key, documents: b.count, reposts: b.sum ?? 0 }));
}

/** Where the running rules find the alert's topic in a document: offsets into the original title and text. */
function hitsOf(services: ConsoleServices, topic: string, doc: IndexedDocument): Hit[] {
  const matcher = services.rules.current?.matcher;
  if (!matcher) return [];
  const match = matcher.match({ title: doc.title, text: doc.text }).find((m) => m.topic.id === topic);
  return (match?.hits ?? []).map((h) => ({ field: h.field, start: h.start, end: h.end, keyword: h.term }));
}

function toLifecycle(body: ActionBody): Pick<ActionInput, 'action' | 'note' | 'level' | 'assignee'> {
  switch (body.action) {
    case 'acknowledge':
      return { action: 'acknowledge', ...(body.note ? { note: body.note } : {}) };
    case 'assign':
      return { action: 'assign', assignee: body.assignee, ...(body.note ? { note: body.note } : {}) };
    case 'note':
      return { action: 'note', note: body.note };
    case 'level':
      return { action: 'change_level', level: body.level, note: body.note };
    case 'close':
      return { action: 'close', note: body.note ? `${body.summary}\n\n${body.note}` : body.summary };
    case 'reopen':
      return { action: 'reopen', note: body.note };
  }
}

/** The handled part of an alert, for the audit log's before/after. */
function handling(alert: Alert) {
  return { status: alert.status, level: alert.level, ...(alert.assignee ? { assignee: alert.assignee } : {}) };
}

export const alertsApi: ConsoleApi = async (app, services) => {
  const { store } = services;
  const feed = app.alertFeed;
  const timeZone = services.config.console.time_zone;
  let tokenizer: Tokenizer | undefined;
  let pinnedVersion = 0;

  /** The search box, cut like the pipeline cuts titles (topic keywords pinned whole). */
  const searchTokens = (q: string): string => {
    tokenizer ??= createTokenizer(services.config.rules.tokenizer);
    const rules = services.rules.current;
    if (rules && rules.version !== pinnedVersion) {
      tokenizer.addWords(topicKeywords(rules.topics));
      pinnedVersion = rules.version;
    }
    return tokenizer
      .words(q)
      .map((w) => w.toLowerCase())
      .filter((w) => /[\p{L}\p{N}]/u.test(w))
      .join(' ');
  };

  const load = async (id: string): Promise<Versioned<Alert>> => {
    const found = await store.getAlert(id);
    if (!found) throw notFound(`alert ${id}`);
    return found;
  };

  app.get('/alerts', async (request) => {
    const q = parseInput(QueueQuery, request.query, 'query');
    const text = q.q ? searchTokens(q.q) : '';
    const { total, items } = await store.searchAlerts({
      ...(q.level ? { level: q.level.map(Number) as Alert['level'][] } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.topic?.length ? { topic: q.topic } : {}),
      ...(q.platform ? { platform: q.platform } : {}),
      ...(q.from || q.to ? { time: { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) } } : {}),
      ...(text ? { text } : {}),
      order: q.order,
      size: q.size,
      offset: q.offset,
    });
    return { total, items: items.map(alertItem) };
  });

  app.get('/alerts/stream', async (request, reply) => {
    feed.subscribe(request, reply);
  });

  app.get('/alerts/:id', async (request) => {
    const { id } = parseInput(IdParam, request.params, 'params');
    const found = await load(id);
    return { alert: alertItem(found), version: found.version };
  });

  app.get('/alerts/:id/documents', async (request) => {
    const { id } = parseInput(IdParam, request.params, 'params');
    const page = parseInput(PageQuery, request.query, 'query');
    const { value: alert } = await load(id);
    const { total, items } = await store.searchDocuments({ ...alertDocuments(alert), order: page.order, size: page.size, offset: page.offset });
    return {
      total,
      items: items.map((d) => ({
        id: d.id,
        platform: d.platform,
        source: d.source,
        url: d.url,
        title: d.title,
        text: d.text,
        ...(d.author ? { author: d.author } : {}),
        published_at: d.published_at,
        ...(d.metrics ? { metrics: d.metrics } : {}),
        ...(d.sentiment === undefined ? {} : { sentiment: d.sentiment }),
        ...(d.parent_id ? { parent_id: d.parent_id } : {}),
        hits: hitsOf(services, alert.topic, d),
      })),
    };
  });

  app.get('/alerts/:id/timeline', async (request) => {
    const { id } = parseInput(IdParam, request.params, 'params');
    const { interval } = parseInput(TimelineQuery, request.query, 'query');
    const { value: alert } = await load(id);
    return { interval, time_zone: timeZone, buckets: await spreadCurve(store, alert, interval, timeZone) };
  });

  app.get('/alerts/:id/deliveries', async (request) => {
    const { id } = parseInput(IdParam, request.params, 'params');
    await load(id);
    return store.searchDeliveries({ alert_id: [id], order: 'asc', size: 1000 });
  });

  app.post('/alerts/:id/actions', async (request) => {
    const { id } = parseInput(IdParam, request.params, 'params');
    const body = parseInput(ActionBody, request.body, 'body');
    const user = userOf(request);
    const current = await load(id);
    if (current.version !== body.version) {
      throw new ConsoleError('SB_STORE_CONFLICT', `alert ${id} changed since version ${body.version} (now ${current.version}); reload it and try again`, {
        details: { version: current.version },
      });
    }
    const next = applyAction(current.value, { ...toLifecycle(body), by: user.name, at: services.now().toISOString(), via: 'console' });
    const saved = await store.updateAlert(next, current.version);
    await services.audit({
      user: user.name,
      action: `alert.${body.action}`,
      target: `alert:${id}`,
      before: handling(current.value),
      after: handling(saved.value),
      ...(next.history.at(-1)?.note ? { note: next.history.at(-1)!.note! } : {}),
      ip: request.ip,
    });
    feed.publish(saved);
    return { alert: alertItem(saved), version: saved.version };
  });
};
