import { alertId, foldAlert, type AlertTopic, type ClusterSignals, type FoldOptions } from '../alerts/fold';
import type { Bus } from '../bus/types';
import { isShaobingError, ShaobingError } from '../core/errors';
import type { Alert } from '../core/records';
import type { Store, Versioned } from '../store/types';
import { clusterDocuments, summarize } from './summary';

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
  /** Alerts of one batch written at once (each is a few round trips); default 8. */
  concurrency?: number;
}

export async function updateAlerts(candidates: readonly AlertCandidate[], store: Store, bus: Bus, options: AlertingOptions): Promise<void> {
  const groups = new Map<string, AlertCandidate[]>();
  for (const c of candidates) {
    const id = alertId(c.topic.id, c.cluster_id);
    groups.set(id, [...(groups.get(id) ?? []), c]);
  }
  // Alerts are independent records: round trips for several of them overlap.
  const queue = [...groups];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [id, group] = next;
      const ordered = [...group].sort((a, b) => Date.parse(a.published_at) - Date.parse(b.published_at) || (a.doc_id < b.doc_id ? -1 : 1));
      const written = await writeAlert(id, ordered, store, options);
      await flushOutbox(id, store, bus, options.maxConflicts, written);
    }
  };
  await Promise.all(Array.from({ length: Math.min(queue.length, options.concurrency ?? 8) }, worker));
}

/** The alert as written, or as it stands when nothing changed. */
async function writeAlert(id: string, ordered: AlertCandidate[], store: Store, options: AlertingOptions): Promise<Versioned<Alert> | undefined> {
  const { topic, cluster_id } = ordered[0]!;
  return onConflictRetry(options.maxConflicts, async () => {
    // Each document's view (up to and including its time) decides the level; the whole stored
    // cluster gives the figures. The queries do not depend on each other.
    const [current, members] = await Promise.all([store.getAlert(id), clusterDocuments(store, topic.id, cluster_id)]);
    const [summaries, totals] = members
      ? [ordered.map((c) => summarize(members.filter((d) => Date.parse(d.published_at) <= Date.parse(c.published_at)))), summarize(members)]
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
    if (!alert || alert === current?.value) return current;
    return current ? store.updateAlert(alert, current.version) : store.createAlert(alert);
  });
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
