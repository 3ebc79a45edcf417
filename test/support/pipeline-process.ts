import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBus } from '../../bus';
import type { Bus } from '../../bus/types';
import { defaultConfig, type Config } from '../../core/config';
import { AlertEvent, type Alert, type Document, type IndexedDocument } from '../../core/records';
import { createStore } from '../../store';
import type { Store } from '../../store/types';
import { CORPUS_TOPICS_YAML } from '../../bench/corpus';
import { PROJECT_ROOT } from './cli';
import { openDatabaseFor, uniqueName } from './backends';

/**
 * The pipeline as an operator runs it, `shaobing run --role pipeline --config FILE`, in a child
 * process a test can SIGKILL, plus what those tests need around it: a config, draining, and a
 * comparable snapshot of what the pipeline stored.
 */

export interface PipelineConfigOptions {
  /** Names topics and the index prefix; two configs with one name share them. */
  name?: string;
  /** Kafka brokers; absent: the embedded bus in `dataDir`. */
  brokers?: string[];
  /** Elasticsearch-API URL; absent: the embedded store in `dataDir`. */
  esNode?: string;
  indexPrefix?: string;
  partitions?: number;
  group?: string;
  batchSize?: number;
  busMaxMessageBytes?: number;
  pipelineMaxMessageBytes?: number;
  /** Own alert-event and dead-letter topics, so two pipelines reading one documents topic keep their outputs apart. */
  outputName?: string;
  /** Kafka consumer session; default 6000 (Kafka's least), so a killed member's partitions move on quickly. */
  sessionTimeoutMs?: number;
}

/** A config with its own data dir and the corpus topics; `file` is what the child reads. */
export function pipelineConfig(options: PipelineConfigOptions = {}): { config: Config; file: string } {
  const name = options.name ?? uniqueName('p');
  const output = options.outputName ?? name;
  const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-pipeline-'));
  const topicsFile = join(dataDir, 'topics.yaml');
  writeFileSync(topicsFile, CORPUS_TOPICS_YAML);
  const config = defaultConfig({
    data_dir: dataDir,
    log: { level: 'info' },
    http: { port: 0 },
    bus: {
      ...(options.brokers ? { kafka: { brokers: options.brokers, session_timeout_ms: options.sessionTimeoutMs ?? 6000 } } : {}),
      topics: {
        documents: { name: `${name}.documents`, partitions: options.partitions ?? 1 },
        alert_events: { name: `${output}.alert-events`, partitions: 1 },
        dead_letters: { name: `${output}.dead-letters`, partitions: 1 },
      },
      ...(options.busMaxMessageBytes ? { max_message_bytes: options.busMaxMessageBytes } : {}),
    },
    store: options.esNode ? { elasticsearch: { node: options.esNode, index_prefix: (options.indexPrefix ?? output).toLowerCase() } } : {},
    rules: { paths: [topicsFile], watch: false },
    pipeline: {
      group: options.group ?? `${output}-pipeline`,
      ...(options.batchSize ? { batch_size: options.batchSize } : {}),
      ...(options.pipelineMaxMessageBytes ? { max_message_bytes: options.pipelineMaxMessageBytes } : {}),
    },
  });
  const file = join(dataDir, 'shaobing.json');
  // JSON is YAML: the child reads this very config through the real loader.
  writeFileSync(file, JSON.stringify(config));
  return { config, file };
}

export interface PipelineProcess {
  readonly pid: number;
  /** The daemon's HTTP URL, from its start-up log line. */
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines so far (JSON, warn and above unless the config says otherwise). */
  log(): string;
  kill(signal?: NodeJS.Signals): void;
  /** A Prometheus text sample of the daemon's /metrics. */
  metrics(): Promise<string>;
}

const MAX_LOG_CHARS = 1_000_000;

/**
 * `shaobing run --role pipeline --config FILE` in a child process: from the TypeScript source for
 * tests, or with `compiled` from dist/ through bin/, as production runs it (benchmarks measure its
 * memory, which a TypeScript require hook would inflate).
 */
export function startPipelineProcess(configFile: string, options: { env?: NodeJS.ProcessEnv; compiled?: boolean; /** Default pipeline. */ role?: string } = {}): PipelineProcess {
  const args = ['run', '--role', options.role ?? 'pipeline', '--config', configFile];
  const main = JSON.stringify(resolve(PROJECT_ROOT, 'cli/main'));
  const script = `require(${main}).main(${JSON.stringify(['node', 'shaobing', ...args])}).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; })`;
  const command = options.compiled ? [resolve(PROJECT_ROOT, 'bin/shaobing.js'), ...args] : ['-r', require.resolve('@swc-node/register'), '-e', script];
  const child: ChildProcess = spawn(process.execPath, command, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  let resolveUrl!: (url: string) => void;
  const url = new Promise<string>((r) => (resolveUrl = r));
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    if (log.length < MAX_LOG_CHARS) log += text;
    const m = /"url":"(http:\/\/[^"]+)".*"msg":"shaobing daemon listening"/.exec(text);
    if (m) resolveUrl(m[1]!);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  return {
    pid: child.pid!,
    url,
    exited,
    log: () => log,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    metrics: async () => (await fetch(`${await url}/metrics`)).text(),
  };
}

/** Sum of a Prometheus counter (all label sets matching `labels`) in a /metrics text. */
export function metricValue(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * The group's lag as the pipeline process reports it (its consumer-lag gauge), for buses the test
 * cannot open beside it (the embedded one); undefined until the process can tell.
 */
export async function reportedLag(child: PipelineProcess): Promise<number | undefined> {
  const text = await child.metrics().catch(() => '');
  if (!text.includes('shaobing_pipeline_consumer_lag{')) return undefined;
  return metricValue(text, 'shaobing_pipeline_consumer_lag');
}

/** Resolves when the group has committed everything published to the documents topic. */
export async function drained(bus: Bus, group: string, timeoutMs: number, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await bus.lag(group, 'documents');
    if (lag.every((p) => p.lag === 0)) return;
    if (alive && !alive()) throw new Error('the pipeline process exited before the topic was drained');
    if (Date.now() > deadline) throw new Error(`not drained after ${timeoutMs} ms: ${JSON.stringify(lag)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function totalLag(bus: Bus, group: string): Promise<number> {
  return (await bus.lag(group, 'documents')).reduce((sum, p) => sum + p.lag, 0);
}

/**
 * Polls the group's lag until `until` holds, through outages of the bus itself (a failed probe
 * is retried); throws after `timeoutMs` or when `alive` says the pipeline died.
 */
export async function waitForLag(bus: Bus, group: string, until: (lag: number) => boolean, timeoutMs: number, alive?: () => boolean): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = NaN;
  for (;;) {
    last = await totalLag(bus, group).catch(() => NaN);
    if (!Number.isNaN(last) && until(last)) return last;
    if (alive && !alive()) throw new Error('the pipeline process exited');
    if (Date.now() > deadline) throw new Error(`lag ${last} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every event published to the run's alert_events topic, redeliveries included. */
export async function readEvents(config: Config): Promise<AlertEvent[]> {
  const reader = createBus(config, { openDatabase: openDatabaseFor(config) });
  const seen: AlertEvent[] = [];
  const group = uniqueName('events');
  const sub = await reader.subscribe({ group, topic: 'alert_events', handler: async (batch) => void seen.push(...batch.map((m) => AlertEvent.parse(JSON.parse(m.value.toString('utf8'))))) });
  for (let i = 0; i < 200 && (await reader.lag(group, 'alert_events')).some((p) => p.lag > 0); i++) await new Promise((r) => setTimeout(r, 100));
  await sub.stop();
  await reader.stop();
  return seen;
}

/** Events by id: at least once on the bus, exactly once by id. */
export function eventsById(events: readonly AlertEvent[]): Map<string, AlertEvent> {
  return new Map(events.map((e) => [e.id, e]));
}

/** What the equality tests compare of a stored document: everything the pipeline decided. */
export type DocumentOutcome = Pick<IndexedDocument, 'id' | 'cluster_id' | 'topics' | 'matches' | 'level' | 'sentiment'>;

export interface Snapshot {
  documents: DocumentOutcome[];
  alerts: Alert[];
}

/** Every stored document of `docs` (by id, so no result-window limit applies) and every alert. */
export async function snapshot(store: Store, docs: readonly Document[]): Promise<Snapshot> {
  await store.refresh();
  const ids = [...new Set(docs.map((d) => d.id))];
  const documents: DocumentOutcome[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const page = await store.searchDocuments({ id: ids.slice(i, i + 1000), size: 1000 });
    for (const d of page.items) {
      documents.push({ id: d.id, cluster_id: d.cluster_id, topics: d.topics, matches: d.matches, level: d.level, sentiment: d.sentiment });
    }
  }
  const alerts: Alert[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.searchAlerts({ size: 1000, offset });
    alerts.push(...page.items.map((v) => v.value));
    if (page.items.length < 1000) break;
  }
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { documents: documents.sort(byId), alerts: alerts.sort(byId) };
}

/**
 * What must hold of any run, whatever happened during it: one record per document, and each
 * alert's figures equal to its cluster's stored documents (not counted twice, not lost).
 */
export async function checkAlertFigures(store: Store, alerts: readonly Alert[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const alert of alerts) {
    const summary = await store.summarizeDocuments({ topic: [alert.topic], cluster_id: [alert.cluster_id] });
    if (summary.count !== alert.doc_count || summary.last_at !== new Date(alert.last_seen_at).toISOString()) {
      wrong.push(`${alert.id} (${alert.topic}): doc_count ${alert.doc_count}, last_seen_at ${alert.last_seen_at}; stored ${summary.count}, last ${summary.last_at}`);
    }
  }
  return wrong;
}

/** A pipeline child process replaying the corpus, and whether it is still running. */
export interface ReplayRun {
  child: PipelineProcess;
  alive(): boolean;
}

/**
 * Runs of one corpus through pipeline child processes, each drained to the end and read back
 * (store snapshot and published events) for comparing runs; `close()` kills what is left running
 * and closes the stores it opened.
 */
export function replayRuns(bus: () => Bus, corpus: readonly Document[]) {
  const children: PipelineProcess[] = [];
  const stores: Store[] = [];
  return {
    start(config: { file: string }): ReplayRun {
      const child = startPipelineProcess(config.file);
      children.push(child);
      let exited = false;
      void child.exited.then(() => (exited = true));
      return { child, alive: () => !exited };
    },
    /** Waits until the run has consumed everything, stops it cleanly, and reads back what it made. */
    async finish(config: { config: Config }, run: ReplayRun): Promise<{ store: Store; snapshot: Snapshot; events: AlertEvent[] }> {
      await waitForLag(bus(), config.config.pipeline.group, (lag) => lag === 0, 600_000, run.alive);
      run.child.kill('SIGTERM');
      const exit = await run.child.exited;
      if (exit.code !== 0) throw new Error(`pipeline child did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}`);
      const store = createStore(config.config, { openDatabase: openDatabaseFor(config.config) });
      stores.push(store);
      const result = { store, snapshot: await snapshot(store, corpus), events: await readEvents(config.config) };
      // A drained run that stored less than it was given is the failure to explain: say what the
      // pipeline logged (a broker-restart run once stored nothing after reaching zero lag).
      const expected = new Set(corpus.map((d) => d.id)).size;
      if (result.snapshot.documents.length < expected) {
        console.warn(`run drained but stored ${result.snapshot.documents.length} of ${expected} documents; the pipeline's log ends:\n${run.child.log().slice(-4000)}`);
      }
      return result;
    },
    async close(): Promise<void> {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}
