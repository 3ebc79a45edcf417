import { randomUUID } from 'node:crypto';
import type { IndexedDocument, Level } from '../../core/records';
import type { Logger } from '../../core/logger';
import { compileTopics, type Matcher } from '../../rules/matcher';
import type { TopicResult } from '../../rules/stage';
import type { Topic } from '../../rules/topics';
import type { RuleTrial } from '../../rules/trial';
import type { Store } from '../../store/types';
import { ConsoleError } from '../request';

/**
 * Backtests: a topic file's edited text against the stored documents of the last days, evaluated
 * with the file's topics as they run now and as edited, through the pipeline's rules stage. What
 * the edit would newly match and stop matching is listed per topic. A job scans up to tens of
 * thousands of documents, so it runs in the background, yields to the event loop between pages,
 * and reports progress; jobs live in memory, a few at a time per process.
 *
 * Documents are read newest first and paged by time, not by offset (the search engine refuses
 * offsets past 10,000): each page ends before the last one's oldest millisecond, skipping the
 * documents of that millisecond already read.
 */

export interface BacktestSpec {
  /** The edited file's id, for the client to tell jobs apart. */
  file: string;
  /** The file's topics as they run now (none for a file not in the running set). */
  before: readonly Topic[];
  /** The same file's topics as edited. */
  after: readonly Topic[];
  /** Published in [from, to). */
  from: Date;
  to: Date;
  /** Documents read at most, newest first. */
  maxDocuments: number;
  /** Who started it. */
  user: string;
}

export interface BacktestDocument {
  topic: string;
  id: string;
  title: string;
  source: string;
  platform: string;
  url: string;
  published_at: string;
  /** Relevance and level under the rules on this side (before for `removed`, after for `added`). */
  score: number;
  level: Level;
}

export interface BacktestTopic {
  topic: string;
  name: string;
  added: number;
  removed: number;
  unchanged: number;
}

export type BacktestStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface BacktestJob {
  id: string;
  file: string;
  user: string;
  status: BacktestStatus;
  from: string;
  to: string;
  started_at: string;
  finished_at?: string;
  /** Documents evaluated so far, of `total` (the documents in the period, capped at maxDocuments). */
  scanned: number;
  total: number;
  /** Newest first, at most `listLimit` each; the counts are complete. */
  added: BacktestDocument[];
  removed: BacktestDocument[];
  added_count: number;
  removed_count: number;
  /** (document, topic) pairs matched both before and after. */
  unchanged: number;
  /** Per topic of either side; complete. */
  topics: BacktestTopic[];
  /** Why a job failed. */
  error?: string;
}

export interface BacktestJobsOptions {
  store: Store;
  /** The trial to evaluate with; called when a job starts, so the sentiment model loads only if backtests run. */
  trial: () => RuleTrial;
  log: Logger;
  now?: () => Date;
  /** Jobs running at once; default 2. */
  maxRunning?: number;
  /** How long a finished job stays readable; default one hour. */
  keepMillis?: number;
  /** Documents listed per side; default 200. */
  listLimit?: number;
  /** Documents read per store query; default 200 (the embedded store answers on this thread: bigger pages stall requests longer). */
  pageSize?: number;
}

interface RunningJob {
  job: BacktestJob;
  topics: Map<string, BacktestTopic>;
  cancelled: boolean;
  finishedAt?: number;
}

export class BacktestJobs {
  readonly #options: Required<Omit<BacktestJobsOptions, 'now'>> & { now: () => Date };
  readonly #jobs = new Map<string, RunningJob>();

  constructor(options: BacktestJobsOptions) {
    this.#options = { maxRunning: 2, keepMillis: 3_600_000, listLimit: 200, pageSize: 200, now: () => new Date(), ...options };
  }

  /** Starts a job and returns it at once; 429 SB_RULES_BACKTEST_BUSY when enough are running. */
  start(spec: BacktestSpec): BacktestJob {
    this.#forgetOld();
    const running = [...this.#jobs.values()].filter((j) => j.job.status === 'running').length;
    if (running >= this.#options.maxRunning) {
      throw new ConsoleError('SB_RULES_BACKTEST_BUSY', `${running} backtest(s) are running, the most this console runs at once; retry when one has finished`, {
        status: 429,
      });
    }
    const job: BacktestJob = {
      id: randomUUID(),
      file: spec.file,
      user: spec.user,
      status: 'running',
      from: spec.from.toISOString(),
      to: spec.to.toISOString(),
      started_at: this.#options.now().toISOString(),
      scanned: 0,
      total: 0,
      added: [],
      removed: [],
      added_count: 0,
      removed_count: 0,
      unchanged: 0,
      topics: [],
    };
    const entry: RunningJob = { job, topics: new Map(), cancelled: false };
    for (const topic of [...spec.before, ...spec.after]) entry.topics.set(topic.id, { topic: topic.id, name: topic.name, added: 0, removed: 0, unchanged: 0 });
    this.#jobs.set(job.id, entry);
    void this.#run(entry, spec).then(
      () => this.#finish(entry, entry.cancelled ? 'cancelled' : 'done'),
      (err: unknown) => {
        this.#options.log.error({ err, job: job.id }, 'backtest failed');
        entry.job.error = (err as Error).message;
        this.#finish(entry, 'failed');
      },
    );
    return this.#view(entry);
  }

  get(id: string): BacktestJob | undefined {
    this.#forgetOld();
    const entry = this.#jobs.get(id);
    return entry && this.#view(entry);
  }

  /** Stops a running job at its next document; the counts so far stay readable. */
  cancel(id: string): BacktestJob | undefined {
    const entry = this.#jobs.get(id);
    if (entry?.job.status === 'running') entry.cancelled = true;
    return entry && this.#view(entry);
  }

  /** Stops every running job (the console is stopping). */
  close(): void {
    for (const entry of this.#jobs.values()) entry.cancelled = true;
  }

  async #run(entry: RunningJob, spec: BacktestSpec): Promise<void> {
    const { store, pageSize } = this.#options;
    const trial = this.#options.trial();
    const before = compileTopics(spec.before);
    const after = compileTopics(spec.after);
    const time = { from: spec.from.toISOString(), to: spec.to.toISOString() };
    const { total } = await store.searchDocuments({ time, size: 0 });
    entry.job.total = Math.min(total, spec.maxDocuments);

    let to = time.to;
    let skip = 0;
    let boundary: number | undefined;
    while (entry.job.scanned < entry.job.total && !entry.cancelled) {
      const size = Math.min(pageSize, entry.job.total - entry.job.scanned);
      const page = await store.searchDocuments({ time: { from: time.from, to }, order: 'desc', size, offset: skip });
      if (page.items.length === 0) break;
      for (const doc of page.items) {
        if (entry.cancelled) return;
        this.#evaluate(entry, trial, before, after, doc);
        entry.job.scanned++;
        const ms = Math.floor(Date.parse(doc.published_at));
        if (ms === boundary) skip++;
        else {
          boundary = ms;
          skip = 1;
        }
      }
      to = new Date((boundary as number) + 1).toISOString();
      // Let requests (progress polls among them) through between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #evaluate(entry: RunningJob, trial: RuleTrial, before: Matcher, after: Matcher, doc: IndexedDocument): void {
    // Most documents match neither side; matching alone (no tokenizing, no sentiment) says so.
    const wasHit = before.match(doc).length > 0;
    const isHit = after.match(doc).length > 0;
    if (!wasHit && !isHit) return;
    const passed = (matcher: Matcher, hit: boolean): Map<string, TopicResult> =>
      new Map(hit ? trial.run(matcher, doc).topics.map((r) => [r.topic.id, r]) : []);
    const old = passed(before, wasHit);
    const now = passed(after, isHit);
    const { job, topics } = entry;
    for (const [id, result] of now) {
      const counts = topics.get(id) as BacktestTopic;
      if (old.has(id)) {
        counts.unchanged++;
        job.unchanged++;
      } else {
        counts.added++;
        job.added_count++;
        if (job.added.length < this.#options.listLimit) job.added.push(summary(doc, result));
      }
    }
    for (const [id, result] of old) {
      if (now.has(id)) continue;
      (topics.get(id) as BacktestTopic).removed++;
      job.removed_count++;
      if (job.removed.length < this.#options.listLimit) job.removed.push(summary(doc, result));
    }
  }

  #finish(entry: RunningJob, status: BacktestStatus): void {
    entry.job.status = status;
    entry.job.finished_at = this.#options.now().toISOString();
    entry.finishedAt = Date.now();
  }

  #forgetOld(): void {
    for (const [id, entry] of this.#jobs) {
      if (entry.finishedAt !== undefined && Date.now() - entry.finishedAt > this.#options.keepMillis) this.#jobs.delete(id);
    }
  }

  /** A copy: the job keeps changing while the reply is serialised. */
  #view(entry: RunningJob): BacktestJob {
    return { ...entry.job, added: [...entry.job.added], removed: [...entry.job.removed], topics: [...entry.topics.values()].map((t) => ({ ...t })) };
  }
}

function summary(doc: IndexedDocument, result: TopicResult): BacktestDocument {
  return {
    topic: result.topic.id,
    id: doc.id,
    title: doc.title,
    source: doc.source,
    platform: doc.platform,
    url: doc.url,
    published_at: doc.published_at,
    score: result.score,
    level: result.level,
  };
}
