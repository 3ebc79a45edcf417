import type { BatchHandler, Bus, BusMessage } from '../bus/types';
import { ShaobingError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { IndexedDocument, Level } from '../core/records';
import { compileTopics } from '../rules/matcher';
import type { RuleSnapshot } from '../rules/rule-set';
import { StoreBulkError } from '../store';
import type { Store } from '../store/types';
import { updateAlerts, type AlertCandidate, type AlertingOptions } from './alerting';
import { analyzeDocument, type AnalyzeDeps, type Analysis } from './analyze';
import { assignClusters, journalEntry, learnEntries, learnFromStore, type ClusterOptions, type RecentMembers } from './cluster';
import type { ClusterLease, LeasedSection } from './cluster-lease';
import { decodeDocument } from './decode';
import type { PipelineMetrics } from './metrics';

export interface PipelineHandlerDeps {
  store: Store;
  bus: Bus;
  log: Logger;
  /** The rule set in force when a batch starts; undefined before any valid set loaded. */
  rules: () => RuleSnapshot | undefined;
  analyze: AnalyzeDeps;
  recent: RecentMembers;
  /** Serialises clustering with the other pipeline processes of the store. */
  lease: ClusterLease;
  metrics: PipelineMetrics;
  cluster: ClusterOptions;
  alerting: AlertingOptions;
  maxMessageBytes: number;
}

interface DeadLetter {
  message: BusMessage;
  reason: string;
}

/** Reason and origin travel in headers; the value stays the original bytes, so it can be replayed. */
export const DEAD_LETTER_HEADERS = { reason: 'x-shaobing-reason', origin: 'x-shaobing-origin' } as const;

/**
 * One batch of raw documents → stored documents, updated alerts, dead letters. It resolves only
 * when all of that is durable, so the bus may commit; retriable failures throw and the bus
 * retries the whole batch, which every step tolerates (ids are stable, alerts are recomputed).
 */
export function createPipelineHandler(deps: PipelineHandlerDeps): BatchHandler {
  const { store, bus, metrics } = deps;
  const refreshDocuments = coalesced(() => store.refresh('documents'));
  const time = async <T>(stage: string, fn: () => Promise<T> | T): Promise<T> => {
    const end = metrics.stageSeconds.startTimer({ stage });
    try {
      return await fn();
    } finally {
      end();
    }
  };

  /**
   * Under the clustering lease: decided and stored before the lease passes on, and the decisions
   * left in the lease's journal for the next holder. Returns the ids the store refused.
   */
  const clusterAndStore = async (analyses: Analysis[], { missed, confirm, publish }: LeasedSection) => {
    // Another process (or an earlier run) may have decided documents this one never saw.
    if (!missed || !learnEntries(deps.recent, missed)) {
      const learned = await time('learn', () => learnFromStore(store, deps.recent, deps.cluster));
      deps.log.info({ learned }, 'clustering decisions learned from the store');
    }
    const assignment = await time('cluster', () => assignClusters(analyses, store, deps.recent, deps.cluster));
    const indexed = analyses.map((a, i) => toIndexed(a, assignment.clusters[i]!));
    await confirm();
    const rejected = await time('store', async () => {
      try {
        await store.putDocuments(indexed);
        return new Set<string>();
      } catch (err) {
        if (!(err instanceof StoreBulkError) || err.retriable) throw err;
        if (err.failures.some((f) => f.retriable)) {
          throw new ShaobingError('SB_STORE_UNAVAILABLE', err.message, { cause: err, retriable: true });
        }
        return new Set(err.failures.map((f) => f.id));
      }
    });
    assignment.commit(rejected);
    publish(() => journalEntry(assignment.members.filter((m) => !rejected.has(m.id))));
    return { clusters: assignment.clusters, rejected };
  };

  return async (messages, context) => {
    const dead: DeadLetter[] = [];
    const byId = new Map<string, { message: BusMessage; analysis: Analysis }>();
    const rules = deps.rules();

    await time('analyze', () => {
      for (const message of messages) {
        const decoded = decodeDocument(message.value, { maxBytes: deps.maxMessageBytes });
        if (!decoded.ok) {
          dead.push({ message, reason: decoded.reason });
          continue;
        }
        try {
          const analysis = analyzeDocument(decoded.doc, rules?.matcher ?? EMPTY_MATCHER, deps.analyze);
          // The same document twice in one batch: the later copy, like a re-collected page, wins.
          byId.delete(decoded.doc.id);
          byId.set(decoded.doc.id, { message, analysis });
        } catch (err) {
          // A document that breaks the analysis is set aside; the rest of the batch goes on.
          dead.push({ message, reason: `analysis failed: ${(err as Error).message}` });
        }
      }
    });

    const items = [...byId.values()];
    const waited = metrics.stageSeconds.startTimer({ stage: 'lease' });
    const { clusters, rejected } =
      items.length === 0
        ? { clusters: [], rejected: new Set<string>() }
        : await deps.lease.run((held) => {
            waited();
            return clusterAndStore(items.map((i) => i.analysis), held);
          }, context.heartbeat);
    // A long batch under load must not look like a dead member; if the group moved on, the commit says so.
    await context.heartbeat().catch(() => undefined);
    for (const item of items) {
      if (rejected.has(item.analysis.doc.id)) dead.push({ message: item.message, reason: 'the store refused the document' });
    }

    const candidates = items.flatMap((item, i) => (rejected.has(item.analysis.doc.id) ? [] : alertCandidates(item.analysis, clusters[i]!)));
    if (candidates.length > 0) {
      // Alert figures are searched for: the batch's documents must be searchable first.
      await time('refresh', refreshDocuments);
      await time('alert', () => updateAlerts(candidates, store, bus, deps.alerting));
      metrics.alertCandidates.inc(candidates.length);
    }

    if (dead.length > 0) {
      await bus.publish(
        'dead_letters',
        dead.map(({ message, reason }) => ({
          key: message.key,
          value: message.value,
          headers: { ...message.headers, [DEAD_LETTER_HEADERS.reason]: printable(reason), [DEAD_LETTER_HEADERS.origin]: `${message.topic}/${message.partition}/${message.offset}` },
        })),
      );
      deps.log.warn({ count: dead.length, first: dead[0]!.reason }, 'documents sent to the dead-letter topic');
    }

    metrics.documents.inc({ outcome: 'stored' }, items.length - rejected.size);
    metrics.documents.inc({ outcome: 'dead_letter' }, dead.length);
    const now = Date.now();
    for (const message of messages) metrics.latencySeconds.observe((now - Date.parse(message.timestamp)) / 1000);
  };
}

/**
 * Calls of `fn` made while one runs share the next run (which starts after all of them), not one
 * each: a refresh started after a caller's writes is all it needs, and the partitions' batches
 * ask for one at nearly the same moments.
 */
function coalesced(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const run = fn().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  return () => {
    if (!running) return start();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}

/**
 * Reasons quote the input (JSON.parse's messages do), so they may hold control characters; the
 * embedded bus keeps headers in PostgreSQL, which refuses U+0000. Escaped, they stay readable.
 */
function printable(reason: string): string {
  return reason.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function toIndexed(a: Analysis, cluster: string): IndexedDocument {
  const levels = a.results.map((r) => r.level);
  return {
    ...a.doc,
    tokens: a.tokens,
    cluster_id: cluster,
    ...(a.fingerprint ? { fingerprint: a.fingerprint, fingerprint_bands: a.bands } : {}),
    sentiment: a.sentiment,
    matches: a.results.map((r) => ({ topic: r.topic.id, score: r.score, sentiment: r.sentiment.score, level: r.level })),
    topics: a.results.map((r) => r.topic.id),
    ...(levels.length > 0 ? { level: Math.min(...levels) as Level } : {}),
  };
}

function alertCandidates(a: Analysis, cluster: string): AlertCandidate[] {
  return a.results
    .filter((r) => r.alert)
    .map((r) => ({
      topic: { id: r.topic.id, name: r.topic.name, level: r.topic.level, policy: r.topic.policy },
      cluster_id: cluster,
      published_at: a.doc.published_at,
      doc_id: a.doc.id,
      signals: {
        sentiment: r.sentiment.score,
        severity_words: r.severityWords,
        ...(r.authorTier ? { author_tier: r.authorTier } : {}),
        title: a.doc.title || a.doc.text.slice(0, 60),
        at: a.doc.published_at,
      },
    }));
}

/** Before the first valid rule set loads, documents are still stored, just matched by nothing. */
const EMPTY_MATCHER = compileTopics([]);
