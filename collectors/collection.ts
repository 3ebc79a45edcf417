import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config';
import { stopOnce } from '../core/lifecycle';
import type { Logger } from '../core/logger';
import { CollectError } from './errors';
import { HealthTracker, type NoticeSink } from './health';
import { HttpClient } from './http';
import { SourceRunner, type RoundReport } from './runner';
import { Scheduler } from './scheduler';
import { createCollector } from './sources';
import { StateStore } from './state';
import type { DocumentSink } from './types';

export interface CollectionOptions {
  config: Config;
  log: Logger;
  /** Where documents go. */
  sink: DocumentSink;
  /** Prometheus registry for the health metrics. */
  metrics?: Registry;
  /** Operator notices (source failing, blocked, recovered); they are logged in any case. */
  notify?: NoticeSink;
  /** Keep cursors and seen-sets under `<data_dir>/collectors` (default); false keeps them in memory. */
  persistState?: boolean;
  /** Only these sources (by name); an unknown name is SB_COLLECT_UNKNOWN_SOURCE. Default: every enabled source. */
  only?: string[];
  now?: () => Date;
}

/**
 * The configured sources, ready to run: one collector, state and health record per source, one
 * shared fetch layer (so per-host limits hold across sources). The daemon role schedules it; the
 * `collect` command runs one round of it.
 */
export class Collection {
  readonly runners: SourceRunner[];
  readonly health: HealthTracker;
  readonly http: HttpClient;
  readonly #options: CollectionOptions;
  #scheduler: Scheduler | undefined;

  constructor(options: CollectionOptions) {
    this.#options = options;
    const { config, log } = options;
    const c = config.collectors;
    const known = new Set(config.sources.map((s) => s.name));
    for (const name of options.only ?? []) {
      if (!known.has(name)) {
        throw new CollectError('SB_COLLECT_UNKNOWN_SOURCE', `no source named "${name}" in the configuration (known: ${[...known].join(', ') || 'none'})`);
      }
    }
    const selected = options.only ? config.sources.filter((s) => options.only!.includes(s.name)) : config.sources.filter((s) => s.enabled);
    this.http = new HttpClient({ config: c.http, log: log.child({ component: 'http' }) });
    this.health = new HealthTracker({
      alertAfterFailures: c.alert_after_failures,
      log,
      timeZone: c.time_zone,
      ...(options.metrics ? { registry: options.metrics } : {}),
      ...(options.notify ? { notify: options.notify } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    const stateStore = new StateStore({
      dir: options.persistState === false ? undefined : join(config.data_dir, 'collectors'),
      seenCapacity: c.seen_capacity,
      log,
    });
    const deps = { http: this.http, log, collectors: c };
    this.runners = selected.map(
      (source) =>
        new SourceRunner({
          collector: createCollector(source, { ...deps, log: log.child({ source: source.name }) }),
          stateStore,
          health: this.health,
          sink: options.sink,
          log,
          timeZone: c.time_zone,
          ...(options.now ? { now: options.now } : {}),
        }),
    );
  }

  /** One round of every selected source, at most max_concurrent_sources at once. */
  async runOnce(signal: AbortSignal = new AbortController().signal): Promise<RoundReport[]> {
    const queue = [...this.runners];
    const reports: RoundReport[] = [];
    const worker = async () => {
      for (let runner = queue.shift(); runner; runner = queue.shift()) reports.push(await runner.runRound(signal));
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.config.collectors.max_concurrent_sources, queue.length) }, worker));
    return reports;
  }

  /** Runs every source on its schedule until stop(). */
  start(): void {
    const c = this.#options.config.collectors;
    this.#scheduler = new Scheduler(
      this.runners.map((runner) => ({
        name: runner.name,
        intervalMs: (runner.collector.source.interval_seconds ?? c.interval_seconds) * 1000,
        run: (signal) => runner.runRound(signal),
      })),
      { jitterRatio: c.jitter_ratio, maxBackoffMs: c.max_backoff_seconds * 1000, maxConcurrent: c.max_concurrent_sources, log: this.#options.log },
    );
    this.#scheduler.start();
  }

  readonly stop = stopOnce(async () => {
    await this.#scheduler?.stop();
    await Promise.allSettled(this.runners.map((r) => r.collector.close()));
    await this.http.close();
  });
}
