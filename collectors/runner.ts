import type { z } from 'zod';
import type { Logger } from '../core/logger';
import { Document } from '../core/records';
import { CollectError, errorCode, errorMessage, isBlocked } from './errors';
import type { HealthTracker, RunOutcome } from './health';
import type { SourceState, StateStore, Validators } from './state';
import type { Collector, DocumentSink, RunContext } from './types';

/** Documents handed to the sink at once. */
const FLUSH_EVERY = 100;

export interface SourceRunnerOptions {
  collector: Collector;
  stateStore: StateStore;
  health: HealthTracker;
  sink: DocumentSink;
  log: Logger;
  timeZone: string;
  now?: () => Date;
}

export interface RoundReport extends RunOutcome {
  source: string;
}

/**
 * Runs rounds of one source: gives the collector a RunContext, validates and dedups what it emits,
 * hands batches to the sink, then commits seen ids, cursors and validators, saves the state and
 * records health. A round never throws; its report says how it went.
 */
export class SourceRunner {
  readonly collector: Collector;
  readonly state: SourceState;
  readonly #o: SourceRunnerOptions;

  constructor(options: SourceRunnerOptions) {
    this.#o = options;
    this.collector = options.collector;
    this.state = options.stateStore.load(options.collector.source.name);
    options.health.register(options.collector.source.name, options.collector.platform);
  }

  get name(): string {
    return this.collector.source.name;
  }

  async runRound(signal: AbortSignal): Promise<RoundReport> {
    const { collector, health, sink } = this.#o;
    const source = collector.source;
    const log = this.#o.log.child({ source: source.name, platform: collector.platform });
    const started = Date.now();
    const state = this.state;
    const roundIds = new Set<string>();
    const pendingCursors = new Map<string, string | undefined>();
    const pendingValidators = new Map<string, Validators>();
    const skips: string[] = [];
    let buffer: Document[] = [];
    let emitted = 0;
    let pageFailures = 0;

    const flush = async () => {
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      await sink(batch);
      for (const doc of batch) state.markSeen(doc.id);
      emitted += batch.length;
      health.documentsEmitted(source.name, batch.length);
    };

    const context: RunContext = {
      signal,
      log,
      now: this.#o.now?.() ?? new Date(),
      timeZone: this.#o.timeZone,
      isSeen: (id) => state.hasSeen(id) || roundIds.has(id),
      emit: async (candidate) => {
        if (roundIds.size >= source.max_items_per_run) return false;
        const parsed = Document.safeParse(candidate);
        if (!parsed.success) {
          const url = (candidate as { url?: unknown })?.url;
          context.pageFailed(typeof url === 'string' ? url : '(no url)', new CollectError('SB_COLLECT_MALFORMED', `document failed its schema: ${describeIssues(parsed.error)}`));
          return false;
        }
        const doc = parsed.data;
        if (state.hasSeen(doc.id) || roundIds.has(doc.id)) return false;
        roundIds.add(doc.id);
        buffer.push(doc);
        if (buffer.length >= FLUSH_EVERY) await flush();
        return true;
      },
      pageFailed: (url, error) => {
        pageFailures++;
        const code = errorCode(error);
        health.pageFailed(source.name, code);
        log.warn({ url, code, err: errorMessage(error) }, 'page failed');
      },
      skip: (id) => skips.push(id),
      cursor: (key) => (pendingCursors.has(key) ? pendingCursors.get(key) : state.cursor(key)),
      setCursor: (key, value) => pendingCursors.set(key, value),
      validators: (url) => pendingValidators.get(url) ?? state.validators(url),
      setValidators: (url, v) => pendingValidators.set(url, v),
      get full() {
        return roundIds.size >= source.max_items_per_run;
      },
    };

    let failure: unknown;
    try {
      await collector.run(context);
    } catch (err) {
      failure = err;
    }
    // Documents read before a failure are whole documents: publish them anyway.
    try {
      await flush();
      if (failure === undefined) {
        for (const [k, v] of pendingCursors) state.setCursor(k, v);
        for (const [url, v] of pendingValidators) state.setValidators(url, v);
      }
      for (const id of skips) state.markSeen(id);
    } catch (err) {
      failure ??= err;
      log.error({ err: errorMessage(err), code: errorCode(err) }, 'documents could not be handed on; they will be collected again next round');
    }
    try {
      this.#o.stateStore.save(state);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'collector state could not be saved');
    }

    const aborted = signal.aborted && failure !== undefined && !(failure instanceof CollectError);
    const outcome: RunOutcome = {
      failed: failure !== undefined,
      blocked: isBlocked(failure),
      documents: emitted,
      pageFailures,
      durationMs: Date.now() - started,
      ...(failure !== undefined
        ? { error: { code: errorCode(failure), message: errorMessage(failure), ...(failure instanceof CollectError && failure.url ? { url: failure.url } : {}) } }
        : {}),
    };
    if (aborted) {
      log.info({ documents: emitted }, 'round interrupted by stop');
      return { source: source.name, ...outcome, failed: false };
    }
    if (failure !== undefined) log.warn({ code: outcome.error?.code, err: outcome.error?.message, url: outcome.error?.url, documents: emitted }, 'round failed');
    else log.info({ documents: emitted, pageFailures, ms: outcome.durationMs }, 'round done');
    await health.recordRun(source.name, outcome);
    return { source: source.name, ...outcome };
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
