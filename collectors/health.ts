import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { silentLogger, type Logger } from '../core/logger';
import { OperatorNotice, stableId, type Platform } from '../core/records';
import { DEFAULT_TIME_ZONE, formatIsoInZone } from '../core/time';

/**
 * Per-source health: last success, error streak, documents per round. Exposed as Prometheus metrics
 * and on /readyz, and raised to operators as an OperatorNotice after N failed rounds in a row (a
 * block by the platform at once), with a recovery notice when the source works again.
 */

export type SourceStatus = 'never_run' | 'ok' | 'failing' | 'blocked';

export interface SourceHealthRecord {
  source: string;
  platform: Platform;
  status: SourceStatus;
  last_run_at?: string;
  last_success_at?: string;
  last_failure_at?: string;
  /** Start of the current failure streak. */
  failing_since?: string;
  last_error?: { code: string; message: string; url?: string };
  error_streak: number;
  last_run_documents: number;
  last_run_page_failures: number;
  total_documents: number;
}

export interface RunOutcome {
  /** The round failed as a whole (feed unreachable, list page broken, every item failed). */
  failed: boolean;
  /** The platform blocked us (captcha, 432/418, cookie expired). */
  blocked: boolean;
  error?: { code: string; message: string; url?: string };
  documents: number;
  pageFailures: number;
  durationMs: number;
}

export type NoticeSink = (notice: OperatorNotice) => void | Promise<void>;

export interface HealthTrackerOptions {
  registry?: Registry;
  /** Failed rounds in a row before a `source_failing` notice. */
  alertAfterFailures: number;
  notify?: NoticeSink;
  log?: Logger;
  now?: () => Date;
  timeZone?: string;
}

interface Metrics {
  documents: Counter<'source' | 'platform'>;
  pageFailures: Counter<'source' | 'platform' | 'code'>;
  runs: Counter<'source' | 'platform' | 'outcome'>;
  streak: Gauge<'source' | 'platform'>;
  up: Gauge<'source' | 'platform'>;
  lastSuccess: Gauge<'source' | 'platform'>;
  lastRunDocuments: Gauge<'source' | 'platform'>;
  duration: Histogram<'source' | 'platform'>;
}

/** Declares the metrics once per registry (two roles in one test process share nothing else). */
function metricsOn(registry: Registry): Metrics {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    documents: get('shaobing_collector_documents_total', () => new Counter({ name: 'shaobing_collector_documents_total', help: 'Documents emitted by collector sources', labelNames: ['source', 'platform'], registers })),
    pageFailures: get('shaobing_collector_page_failures_total', () => new Counter({ name: 'shaobing_collector_page_failures_total', help: 'Pages, items or API answers a source could not turn into documents, by error code', labelNames: ['source', 'platform', 'code'], registers })),
    runs: get('shaobing_collector_runs_total', () => new Counter({ name: 'shaobing_collector_runs_total', help: 'Collector rounds by outcome (ok, failed, blocked)', labelNames: ['source', 'platform', 'outcome'], registers })),
    streak: get('shaobing_collector_error_streak', () => new Gauge({ name: 'shaobing_collector_error_streak', help: 'Failed rounds in a row', labelNames: ['source', 'platform'], registers })),
    up: get('shaobing_collector_source_up', () => new Gauge({ name: 'shaobing_collector_source_up', help: '1 when the last round of the source succeeded', labelNames: ['source', 'platform'], registers })),
    lastSuccess: get('shaobing_collector_last_success_timestamp_seconds', () => new Gauge({ name: 'shaobing_collector_last_success_timestamp_seconds', help: 'Unix time of the last successful round', labelNames: ['source', 'platform'], registers })),
    lastRunDocuments: get('shaobing_collector_last_run_documents', () => new Gauge({ name: 'shaobing_collector_last_run_documents', help: 'Documents emitted by the last round', labelNames: ['source', 'platform'], registers })),
    duration: get('shaobing_collector_run_duration_seconds', () => new Histogram({ name: 'shaobing_collector_run_duration_seconds', help: 'Duration of collector rounds', labelNames: ['source', 'platform'], buckets: [0.1, 0.5, 1, 5, 15, 60, 300], registers })),
  };
}

export class HealthTracker {
  readonly #records = new Map<string, SourceHealthRecord>();
  /** Sources whose failure was told to operators: they get a recovery notice. */
  readonly #told = new Set<string>();
  readonly #metrics: Metrics | undefined;
  readonly #options: HealthTrackerOptions;
  readonly #log: Logger;
  readonly #notices: OperatorNotice[] = [];

  constructor(options: HealthTrackerOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#metrics = options.registry ? metricsOn(options.registry) : undefined;
  }

  register(source: string, platform: Platform): void {
    if (this.#records.has(source)) return;
    this.#records.set(source, { source, platform, status: 'never_run', error_streak: 0, last_run_documents: 0, last_run_page_failures: 0, total_documents: 0 });
    this.#metrics?.up.set({ source, platform }, 0);
    this.#metrics?.streak.set({ source, platform }, 0);
  }

  pageFailed(source: string, code: string): void {
    const r = this.#records.get(source);
    if (r) this.#metrics?.pageFailures.inc({ source, platform: r.platform, code });
  }

  documentsEmitted(source: string, count: number): void {
    const r = this.#records.get(source);
    if (!r || count === 0) return;
    r.total_documents += count;
    this.#metrics?.documents.inc({ source, platform: r.platform }, count);
  }

  /** Records a round and raises or clears operator notices; never throws (a sink that fails is logged). */
  async recordRun(source: string, outcome: RunOutcome): Promise<SourceHealthRecord> {
    const r = this.#records.get(source);
    if (!r) throw new Error(`unknown source ${source}`);
    const now = this.#now();
    const at = formatIsoInZone(now, this.#tz());
    const labels = { source, platform: r.platform };
    r.last_run_at = at;
    r.last_run_documents = outcome.documents;
    r.last_run_page_failures = outcome.pageFailures;
    this.#metrics?.lastRunDocuments.set(labels, outcome.documents);
    this.#metrics?.duration.observe(labels, outcome.durationMs / 1000);

    if (!outcome.failed) {
      const wasTold = this.#told.delete(source);
      const streak = r.error_streak;
      const since = r.failing_since;
      r.status = 'ok';
      r.error_streak = 0;
      r.last_success_at = at;
      delete r.failing_since;
      this.#metrics?.runs.inc({ ...labels, outcome: 'ok' });
      this.#metrics?.up.set(labels, 1);
      this.#metrics?.streak.set(labels, 0);
      this.#metrics?.lastSuccess.set(labels, Math.floor(now.getTime() / 1000));
      if (wasTold) {
        await this.#notify({
          kind: 'source_recovered', source, platform: r.platform, error_streak: streak, ...(since ? { since } : {}),
          message: `${describe(r)} works again after ${streak} failed round(s)${since ? ` since ${since}` : ''}`,
        });
      }
      return { ...r };
    }

    r.error_streak++;
    r.failing_since ??= at;
    r.last_failure_at = at;
    if (outcome.error) r.last_error = outcome.error;
    const wasBlocked = r.status === 'blocked';
    r.status = outcome.blocked ? 'blocked' : 'failing';
    this.#metrics?.runs.inc({ ...labels, outcome: outcome.blocked ? 'blocked' : 'failed' });
    this.#metrics?.up.set(labels, 0);
    this.#metrics?.streak.set(labels, r.error_streak);
    const error = outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : 'no document could be read';
    if (outcome.blocked && !wasBlocked) {
      this.#told.add(source);
      await this.#notify({
        kind: 'source_blocked', source, platform: r.platform, error_streak: r.error_streak, since: r.failing_since,
        ...(outcome.error ? { error_code: outcome.error.code } : {}),
        message: `${describe(r)} is blocked by the platform (captcha, login or cookie expired): ${error}. Backing off; renew the cookie or proxy if it persists.`,
      });
    } else if (!outcome.blocked && r.error_streak === this.#options.alertAfterFailures) {
      this.#told.add(source);
      await this.#notify({
        kind: 'source_failing', source, platform: r.platform, error_streak: r.error_streak, since: r.failing_since,
        ...(outcome.error ? { error_code: outcome.error.code } : {}),
        message: `${describe(r)} failing since ${r.failing_since} (${r.error_streak} failed rounds): ${error}`,
      });
    }
    return { ...r };
  }

  get(source: string): SourceHealthRecord | undefined {
    const r = this.#records.get(source);
    return r ? { ...r } : undefined;
  }

  snapshot(): SourceHealthRecord[] {
    return [...this.#records.values()].map((r) => ({ ...r }));
  }

  /** Notices raised so far (the newest 100), for `collect` output and tests. */
  get notices(): readonly OperatorNotice[] {
    return this.#notices;
  }

  /**
   * For /readyz. Always ready: a feed that is down outside is not a reason to take the daemon (and
   * the console it serves) out of rotation. The detail names each unhealthy source plainly, the
   * metrics carry the same per source, and operators get notices.
   */
  summary(): { ready: boolean; detail?: string } {
    const records = [...this.#records.values()];
    if (records.length === 0) return { ready: true, detail: 'no sources configured' };
    const bad = records.filter((r) => r.status === 'failing' || r.status === 'blocked');
    const ran = records.filter((r) => r.status !== 'never_run');
    const ok = ran.length - bad.length;
    const parts = bad.map(
      (r) => `${describe(r)} ${r.status === 'blocked' ? 'blocked' : 'failing'} since ${r.failing_since} (${r.error_streak} failed rounds${r.last_error ? `: ${r.last_error.code} ${r.last_error.message}` : ''})`,
    );
    const head = `${ok} of ${records.length} sources healthy${ran.length < records.length ? `, ${records.length - ran.length} not run yet` : ''}`;
    return { ready: true, detail: parts.length ? `${head}; ${parts.join('; ')}` : head };
  }

  async #notify(partial: Omit<OperatorNotice, 'id' | 'at' | 'component'>): Promise<void> {
    const at = formatIsoInZone(this.#now(), this.#tz());
    const notice = OperatorNotice.parse({
      id: stableId('notice', partial.source, partial.kind, partial.since ?? at),
      component: 'collector',
      at,
      ...partial,
    });
    this.#notices.push(notice);
    if (this.#notices.length > 100) this.#notices.shift();
    const level = notice.kind === 'source_recovered' ? 'info' : 'error';
    this.#log[level]({ notice }, `operator notice: ${notice.message}`);
    try {
      await this.#options.notify?.(notice);
    } catch (err) {
      this.#log.error({ err, notice: notice.id }, 'operator notice sink failed');
    }
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #tz(): string {
    return this.#options.timeZone ?? DEFAULT_TIME_ZONE;
  }
}

const KIND_WORD: Record<Platform, string> = { rss: 'feed', news: 'site', weibo: 'Weibo source', wechat: 'WeChat source' };

function describe(r: SourceHealthRecord): string {
  return `${KIND_WORD[r.platform]} ${r.source}`;
}
