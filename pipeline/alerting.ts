import { alertId, foldAlert, type AlertTopic, type ClusterSignals, type FoldOptions } from '../alerts/fold';
import type { Bus } from '../bus/types';
import { isShaobingError, ShaobingError } from '../core/errors';
import type { Alert } from '../core/records';
import type { Store, Versioned } from '../store/types';
import { clusterFigures, summarize, type ClusterFigures } from './summary';

/**
 * Opens and updates alerts for the documents of a batch that matched a topic and should alert.
 * Each document is folded in publication order against the cluster as it stood at that
 * document's time (the stored documents published up to it), so the alert's history does not
 * depend on how the bus happened to batch the documents. One versioned write per alert per batch;
 * a lost race re-reads and folds again.
 */

export interface AlertCandidate {
  topic: AlertTopic;
  cluster_id: string;
  published_at: string;
  doc_id: string;
  signals: ClusterSignals;
}

export interface AlertingOptions extends FoldOptions {
  /** Re-reads after lost optimistic-concurrency races before giving up (retriably); default 10. */
  maxConflicts?: number;
}

/**
 * The alerts of a batch are read, summarised, written and cleared of their events a few round
 * trips at a time, all together: one read of the alerts, one search of their clusters, one
 * write. Alerts that lost a race (another process wrote them) go round again.
 */
export async function updateAlerts(candidates: readonly AlertCandidate[], store: Store, bus: Bus, options: AlertingOptions): Promise<void> {
  const groups = new Map<string, AlertCandidate[]>();
  for (const c of candidates) {
    const id = alertId(c.topic.id, c.cluster_id);
    groups.set(id, [...(groups.get(id) ?? []), c]);
  }
  for (const group of groups.values()) group.sort((a, b) => Date.parse(a.published_at) - Date.parse(b.published_at) || (a.doc_id < b.doc_id ? -1 : 1));

  const written: Array<Versioned<Alert>> = [];
  let pending = [...groups.keys()];
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > (options.maxConflicts ?? 10)) {
      throw new ShaobingError('SB_STORE_CONFLICT', `gave up after ${attempt - 1} concurrent updates of alert ${pending[0]}`, { retriable: true });
    }
    // Each cluster split at its earliest candidate: the older documents counted by the store.
    const [current, figures] = await Promise.all([store.getAlerts(pending), clusterFigures(store, pending.map((id) => ({ ...groups.get(id)![0]!, since: groups.get(id)![0]!.published_at })))]);
    const folded = await Promise.all(pending.map((id, i) => fold(groups.get(id)!, current.get(id), figures[i], store, options)));
    // Unchanged alerts may still hold events an earlier attempt wrote but could not publish.
    written.push(...folded.flatMap((alert, i) => (alert || !current.has(pending[i]!) ? [] : [current.get(pending[i]!)!])));
    const writes = folded.flatMap((alert, i) => (alert ? [{ id: pending[i]!, alert }] : []));
    const results = await store.writeAlerts(writes.map(({ id, alert }) => ({ alert, ...(current.has(id) ? { expected: current.get(id)!.version } : {}) })));
    written.push(...results.flatMap((r) => (r ? [r] : [])));
    pending = writes.filter((_, i) => !results[i]).map((w) => w.id);
  }
  await flushOutboxes(written.filter((w) => (w.value.outbox ?? []).length > 0), store, bus, options.maxConflicts);
}

/**
 * The alert after folding in its candidates, each against the cluster as it stood at that
 * candidate's time, or undefined when nothing changes. The whole stored cluster gives the figures.
 */
async function fold(ordered: AlertCandidate[], current: Versioned<Alert> | undefined, cluster: ClusterFigures | undefined, store: Store, options: AlertingOptions): Promise<Alert | undefined> {
  const { topic, cluster_id } = ordered[0]!;
  const [summaries, totals] = cluster
    ? [ordered.map((c) => summarize(cluster, Date.parse(c.published_at))), summarize(cluster)]
    : await Promise.all([
        Promise.all(
          // A range's end is exclusive.
          ordered.map((c) => store.summarizeDocuments({ topic: [topic.id], cluster_id: [cluster_id], time: { to: new Date(Date.parse(c.published_at) + 1).toISOString() } })),
        ),
        store.summarizeDocuments({ topic: [topic.id], cluster_id: [cluster_id] }),
      ]);
  let alert = current?.value;
  ordered.forEach((c, i) => {
    alert = foldAlert(alert, { topic: c.topic, cluster_id: c.cluster_id, signals: c.signals, summary: summaries[i]!, totals }, options) ?? alert;
  });
  return alert === current?.value ? undefined : alert;
}

/** Publishes the pending events of these alerts at once, then removes exactly those from their outboxes. */
async function flushOutboxes(alerts: Array<Versioned<Alert>>, store: Store, bus: Bus, maxConflicts?: number): Promise<void> {
  if (alerts.length === 0) return;
  const events = alerts.flatMap((a) => a.value.outbox ?? []);
  await bus.publish(
    'alert_events',
    events.map((event) => ({ key: event.alert_id, value: event, headers: { type: event.type } })),
  );
  const results = await store.writeAlerts(alerts.map((a) => ({ alert: { ...a.value, outbox: [] }, expected: a.version })));
  // Written meanwhile by another process: clear what was published, one by one.
  for (const [i, result] of results.entries()) {
    if (!result) await flushOutbox(alerts[i]!.value.id, store, bus, maxConflicts);
  }
}

/**
 * Publishes the alert's pending events, then removes exactly those from its outbox. `known`: the
 * alert as just written, which saves a read; a lost race reads it again.
 */
export async function flushOutbox(id: string, store: Store, bus: Bus, maxConflicts?: number, known?: Versioned<Alert>): Promise<number> {
  let published = 0;
  let fresh = known;
  await onConflictRetry(maxConflicts, async () => {
    const current: Versioned<Alert> | undefined = fresh ?? (await store.getAlert(id));
    fresh = undefined;
    const outbox = current?.value.outbox ?? [];
    if (!current || outbox.length === 0) return;
    await bus.publish(
      'alert_events',
      outbox.map((event) => ({ key: event.alert_id, value: event, headers: { type: event.type } })),
    );
    published += outbox.length;
    const sent = new Set(outbox.map((e) => e.id));
    await store.updateAlert({ ...current.value, outbox: (current.value.outbox ?? []).filter((e) => !sent.has(e.id)) }, current.version);
  });
  return published;
}

/** Events stored but never published (the process died in between): published at start-up. */
export async function sweepOutboxes(store: Store, bus: Bus): Promise<number> {
  let published = 0;
  for (;;) {
    const pending = await store.searchAlerts({ with_outbox: true, size: 100 });
    if (pending.items.length === 0) return published;
    for (const { value } of pending.items) published += await flushOutbox(value.id, store, bus);
    await store.refresh();
  }
}

async function onConflictRetry<T>(maxConflicts = 10, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const lostRace = isShaobingError(err, 'SB_STORE_CONFLICT') || isShaobingError(err, 'SB_STORE_EXISTS');
      if (!lostRace) throw err;
      if (attempt >= maxConflicts) {
        throw new ShaobingError('SB_STORE_CONFLICT', `gave up after ${attempt} concurrent updates of one alert`, { cause: err, retriable: true });
      }
    }
  }
}
