/**
 * npm run bench:pipeline [-- --documents 20000 --rate 2000 --seconds 20 --processes 1,2]
 *
 * The pipeline end to end on real Kafka and the real search engine: `shaobing run --role
 * pipeline` child processes, compiled (bin/shaobing.js → dist/, as in production) (1, then 2 in one consumer group) consume a replay of Weibo-length
 * real posts (bench/corpus.ts: 央视新闻 posts of 2020 with copies, edits and reposts, see
 * bench/data/README.md) from a 4-partition topic. Services: those named by SHAOBING_TEST_*, a
 * running `shaobing infra up` stack, or else started here and stopped at the end.
 *
 * Two phases per process count:
 * - throughput: the whole corpus is published as fast as the producer can while the pipeline
 *   runs; sustained documents/s = documents / (first publish → everything committed);
 * - latency: documents offered at a fixed rate for a while; publish→alert-indexed latency is the
 *   pipeline's own histogram (bus timestamp → end of the batch that stored the document and
 *   updated its alerts), percentiles interpolated within its buckets.
 * Also printed: consumer lag over time, each stage's share of batch time (`lease`: waiting for
 * the clustering section; `learn`: reading decisions from the store when the lease's journal
 * cannot tell them, docs/pipeline.md), search-engine time by kind of work, peak RSS of the pipeline processes (VmHWM), and
 * the CPU seconds each phase cost Kafka, the search engine, the pipeline and the rest of the
 * machine (it is shared: the rest is other people's work competing for the same cores).
 */
import { readFileSync, rmSync } from 'node:fs';
import { createBus } from '../bus';
import type { Bus } from '../bus/types';
import { openEmbeddedDatabase } from '../core/embedded-db';
import type { Document } from '../core/records';
import { acquireTestServices, TEST_ENV } from '../infra/test-services';
import { stderrProgress } from '../infra/progress';
import { readStackState } from '../infra/stack';
import { pipelineConfig, startPipelineProcess, totalLag, type PipelineProcess } from '../test/support/pipeline-process';
import { buildCorpus } from './corpus';

const PARTITIONS = 4;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Histogram {
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

function histogram(text: string, name: string, labels = ''): Histogram {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)![1]!;
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    } else if (line.startsWith(`${name}_count`)) count += value;
    else if (line.startsWith(`${name}_sum`)) sum += value;
  }
  return { buckets: [...buckets].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le), count, sum };
}

function minus(a: Histogram, b: Histogram): Histogram {
  return { buckets: a.buckets.map((x, i) => ({ le: x.le, count: x.count - (b.buckets[i]?.count ?? 0) })), count: a.count - b.count, sum: a.sum - b.sum };
}

function add(a: Histogram, b: Histogram): Histogram {
  if (a.buckets.length === 0) return b;
  return { buckets: a.buckets.map((x, i) => ({ le: x.le, count: x.count + (b.buckets[i]?.count ?? 0) })), count: a.count + b.count, sum: a.sum + b.sum };
}

/** Linear interpolation inside the bucket holding the quantile, as Prometheus' histogram_quantile. */
function quantile(h: Histogram, q: number): string {
  if (h.count === 0) return 'n/a';
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return `> ${lower} s`;
      const within = b.count - below;
      return `${(lower + (b.le - lower) * (within > 0 ? (rank - below) / within : 1)).toFixed(2)} s`;
    }
    lower = b.le;
    below = b.count;
  }
  return 'n/a';
}

/** CPU seconds (user + system) a process has used so far; NaN once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Busy and total CPU seconds of the whole machine (every core), from /proc/stat. */
function machineSeconds(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((s, t) => s + t, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) / 100, total: total / 100 };
}

/**
 * Who used the CPU during a phase: each service process, the pipeline processes, this process
 * (the producer), and the rest of the machine (other jobs sharing it).
 */
function cpuSampler(processes: Record<string, number[]>) {
  const read = () => ({ machine: machineSeconds(), own: Object.fromEntries(Object.entries(processes).map(([name, pids]) => [name, pids.reduce((s, pid) => s + cpuSeconds(pid), 0)])) });
  const start = read();
  return () => {
    const end = read();
    const busy = end.machine.busy - start.machine.busy;
    const cores = (end.machine.total - start.machine.total);
    const parts = Object.keys(processes).map((name) => ({ name, seconds: end.own[name]! - start.own[name]! }));
    const known = parts.reduce((s, p) => s + (Number.isNaN(p.seconds) ? 0 : p.seconds), 0);
    return `CPU seconds: ${parts.map((p) => `${p.name} ${p.seconds.toFixed(1)}`).join(', ')}, everything else ${(busy - known).toFixed(1)}; machine ${((100 * busy) / cores).toFixed(0)}% busy`;
  };
}

interface EngineStats {
  [what: string]: number;
}

/** The search engine's own time (milliseconds, summed over threads) per kind of work on this run's indices. */
async function engineStats(prefix: string): Promise<EngineStats | undefined> {
  const url = process.env[TEST_ENV.openSearchUrl] ?? process.env[TEST_ENV.esUrl];
  const response = await fetch(`${url}/${prefix}-*/_stats/indexing,get,search,refresh,merge,flush`).catch(() => undefined);
  if (!response?.ok) return undefined;
  const { _all: all } = (await response.json()) as { _all: { primaries: Record<string, Record<string, number>> } };
  const p = all.primaries;
  return {
    index: p.indexing?.index_time_in_millis ?? 0,
    get: p.get?.time_in_millis ?? 0,
    'search query': p.search?.query_time_in_millis ?? 0,
    'search fetch': p.search?.fetch_time_in_millis ?? 0,
    refresh: p.refresh?.total_time_in_millis ?? 0,
    merge: p.merges?.total_time_in_millis ?? 0,
    flush: p.flush?.total_time_in_millis ?? 0,
    refreshes: p.refresh?.total ?? 0,
    searches: p.search?.query_total ?? 0,
    gets: p.get?.total ?? 0,
  };
}

function engineDelta(after: EngineStats | undefined, before: EngineStats | undefined): string {
  if (!after || !before) return 'search engine stats: n/a';
  const d = (k: string) => after[k]! - before[k]!;
  const times = ['index', 'get', 'search query', 'search fetch', 'refresh', 'merge', 'flush'].map((k) => `${k} ${(d(k) / 1000).toFixed(1)}`);
  return `search engine time (s): ${times.join(', ')}; ${d('refreshes')} refreshes, ${d('searches')} searches, ${d('gets')} gets`;
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}


async function publishAll(bus: Bus, docs: readonly Document[], chunk = 1000): Promise<void> {
  for (let i = 0; i < docs.length; i += chunk) await bus.publish('documents', docs.slice(i, i + chunk).map((d) => ({ key: d.id, value: d })));
}

async function readyz(child: PipelineProcess): Promise<void> {
  const url = await child.url;
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200) return;
    await sleep(100);
  }
  throw new Error(`pipeline ${child.pid} not ready: ${child.log().slice(-2000)}`);
}

async function run(processes: number, corpus: { throughput: Document[]; latency: Document[] }, options: { rate: number; seconds: number; servicePids: Record<string, number[]> }): Promise<void> {
  const name = `bench-${process.pid}-${Date.now().toString(36)}-${processes}p`;
  // A bench kills nothing: Kafka's default session timeout, not the tests' short one.
  const { config, file } = pipelineConfig({ name, brokers: process.env[TEST_ENV.kafkaBrokers]!.split(','), esNode: process.env[TEST_ENV.esUrl]!, partitions: PARTITIONS, sessionTimeoutMs: 30_000 });
  const dataDir = config.data_dir;
  const bus = createBus(config, { openDatabase: () => openEmbeddedDatabase(dataDir) });
  await bus.start();
  const group = config.pipeline.group;

  const children = Array.from({ length: processes }, () => startPipelineProcess(file, { compiled: true }));
  const rss = new Map<number, number>();
  const sampleRss = () => children.forEach((c) => rss.set(c.pid, Math.max(rss.get(c.pid) ?? 0, peakRssMb(c.pid))));
  try {
    await Promise.all(children.map(readyz));
    const scrape = async () => (await Promise.all(children.map((c) => c.metrics()))).join('\n');

    const measured = { ...options.servicePids, pipeline: children.map((c) => c.pid), 'bench (producer)': [process.pid] };

    // Throughput.
    const lagSeries: string[] = [];
    const throughputCpu = cpuSampler(measured);
    const engineBefore = await engineStats(name);
    const t0 = Date.now();
    const publishing = publishAll(bus, corpus.throughput);
    let published = 0;
    void publishing.then(() => (published = Date.now() - t0));
    let lag = 1;
    let lastSample = 0;
    while (lag > 0 || published === 0) {
      await sleep(250);
      lag = await totalLag(bus, group);
      if (Date.now() - lastSample >= 2000) {
        lastSample = Date.now();
        lagSeries.push(`${((Date.now() - t0) / 1000).toFixed(0)}s:${lag}`);
        sampleRss();
      }
      if (Date.now() - t0 > 15 * 60_000) throw new Error('not drained after 15 minutes');
    }
    const elapsed = (Date.now() - t0) / 1000;
    const throughputCpuSplit = throughputCpu();
    const engineThroughput = await engineStats(name);
    const afterThroughput = await scrape();

    // Latency at a fixed offered rate.
    const perTick = Math.max(1, Math.round(options.rate / 10));
    const latencyCpu = cpuSampler(measured);
    const t1 = Date.now();
    let offered = 0;
    for (let i = 0; offered < corpus.latency.length && Date.now() - t1 < options.seconds * 1000; i++) {
      const due = t1 + i * 100;
      if (due > Date.now()) await sleep(due - Date.now());
      const slice = corpus.latency.slice(offered, offered + perTick);
      offered += slice.length;
      await bus.publish('documents', slice.map((d) => ({ key: d.id, value: d })));
      if (i % 20 === 0) sampleRss();
    }
    const offeredSeconds = (Date.now() - t1) / 1000;
    while ((await totalLag(bus, group)) > 0) await sleep(250);
    sampleRss();
    const latencyCpuSplit = latencyCpu();
    const engineLatency = await engineStats(name);
    const afterLatency = await scrape();

    const latency = minus(histogram(afterLatency, 'shaobing_pipeline_publish_to_stored_seconds'), histogram(afterThroughput, 'shaobing_pipeline_publish_to_stored_seconds'));
    const throughputLatency = histogram(afterThroughput, 'shaobing_pipeline_publish_to_stored_seconds');
    const stages = ['analyze', 'lease', 'learn', 'cluster', 'store', 'refresh', 'alert'].map((stage) => {
      const h = histogram(afterLatency, 'shaobing_pipeline_stage_seconds', `stage="${stage}"`);
      return { stage, sum: h.sum, count: h.count };
    });
    const stageTotal = stages.reduce((s, x) => s + x.sum, 0);
    const batches = histogram(afterLatency, 'shaobing_pipeline_stage_seconds', 'stage="analyze"').count;

    console.log(`\n== ${processes} pipeline process${processes > 1 ? 'es' : ''}, ${PARTITIONS} partitions ==`);
    console.log(`throughput: ${corpus.throughput.length} documents in ${elapsed.toFixed(1)} s (published in ${(published / 1000).toFixed(1)} s) → ${(corpus.throughput.length / elapsed).toFixed(0)} documents/s sustained`);
    console.log(`  latency while saturated: p50 ${quantile(throughputLatency, 0.5)}, p95 ${quantile(throughputLatency, 0.95)}, p99 ${quantile(throughputLatency, 0.99)}`);
    console.log(`  consumer lag (time:messages): ${lagSeries.join(' ')}`);
    console.log(`  ${throughputCpuSplit}`);
    console.log(`  ${engineDelta(engineThroughput, engineBefore)}`);
    console.log(`latency at ${(offered / offeredSeconds).toFixed(0)} documents/s offered for ${offeredSeconds.toFixed(0)} s (${offered} documents): p50 ${quantile(latency, 0.5)}, p95 ${quantile(latency, 0.95)}, p99 ${quantile(latency, 0.99)} (mean ${(latency.sum / Math.max(1, latency.count)).toFixed(3)} s)`);
    console.log(`  ${latencyCpuSplit}`);
    console.log(`  ${engineDelta(engineLatency, engineThroughput)}`);
    console.log(`batch time by stage (${batches} batches): ${stages.map((s) => `${s.stage} ${((100 * s.sum) / stageTotal).toFixed(0)}% (${((1000 * s.sum) / Math.max(1, s.count)).toFixed(0)} ms × ${s.count})`).join(', ')}`);
    console.log(`peak RSS: ${[...rss.values()].map((mb) => `${mb.toFixed(0)} MB`).join(', ')}`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    await bus.stop();
    const es = process.env[TEST_ENV.openSearchUrl];
    if (es) await fetch(`${es}/${name}-*`, { method: 'DELETE' }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const documents = Number(flag('documents', '20000'));
  const rate = Number(flag('rate', '2000'));
  const seconds = Number(flag('seconds', '20'));
  const counts = flag('processes', '1,2').split(',').map(Number);
  const services = await acquireTestServices({ progress: stderrProgress });
  if (services.source === 'none') throw new Error('the pipeline benchmark needs Kafka and a search engine (unset SHAOBING_TEST_SERVICES)');
  Object.assign(process.env, services.env);
  // Started here, the proxy runs inside this process: its CPU is counted with the bench's.
  const proxy = services.source === 'stack' ? (await readStackState()).proxy?.pid : undefined;
  const servicePids: Record<string, number[]> = {
    kafka: [Number(process.env[TEST_ENV.kafkaPid])].filter((pid) => pid > 0),
    opensearch: [Number(process.env[TEST_ENV.openSearchPid])].filter((pid) => pid > 0),
    ...(proxy ? { 'es-compat proxy': [proxy] } : {}),
  };
  try {
    for (const processes of counts) {
      // A corpus of its own per run (another seed: other ids), Weibo posts only: ~80 characters.
      const all = buildCorpus({ size: documents + rate * seconds, seed: 100 + processes, articles: false });
      const avg = all.reduce((s, d) => s + d.text.length, 0) / all.length;
      console.log(`\ncorpus: ${all.length} Weibo-length documents (mean ${avg.toFixed(0)} characters), services: ${services.source}`);
      await run(processes, { throughput: all.slice(0, documents), latency: all.slice(documents) }, { rate, seconds, servicePids });
    }
  } finally {
    await services.release();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
