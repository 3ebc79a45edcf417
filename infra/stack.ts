import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../core/logger';
import { startKafka, kafkaFiles } from './kafka';
import { startOpenSearch } from './opensearch';
import { projectRoot } from '../core/paths';
import { defaultStateDir } from './paths';
import { esCompatReachable, kafkaReachable, openSearchReady } from './probes';
import { noProgress, type Progress } from './progress';
import { processMatches, startServiceProcess, stopPid } from './service-process';

/**
 * A developer's long-lived local stack (`shaobing infra up|down|status`): Kafka, OpenSearch and
 * the compat proxy, detached so they outlive the command. state.json is the only link between
 * the command that started them and the ones that stop or inspect them.
 */

export interface StackOptions {
  /** Default: var/infra in the project. Holds state.json and the services' data. */
  stateDir?: string;
  kafkaPort?: number;
  kafkaControllerPort?: number;
  openSearchPort?: number;
  proxyPort?: number;
  log?: Logger;
  progress?: Progress;
}

interface ProcessEntry {
  pid: number;
  /** Found in the process's command line; guards against a pid reused after a reboot. */
  marker: string;
  logFile: string;
}

export interface StackState {
  kafka?: ProcessEntry & { brokers: string[]; port: number; controllerPort: number; dataDir: string };
  opensearch?: ProcessEntry & { url: string; port: number; dataDir: string };
  /** The URL for the official Elasticsearch client. */
  proxy?: ProcessEntry & { url: string; port: number; target: string };
}

export type ComponentName = keyof StackState;
const COMPONENTS: readonly ComponentName[] = ['kafka', 'opensearch', 'proxy'];

export interface ComponentStatus {
  name: ComponentName;
  /** Listed in state.json at all. */
  listed: boolean;
  running: boolean;
  reachable: boolean;
  pid?: number;
  endpoint?: string;
  logFile?: string;
}

export const STACK_DEFAULTS = { kafkaPort: 19092, kafkaControllerPort: 19093, openSearchPort: 19201, proxyPort: 19200 } as const;
const STOP_TIMEOUT_MS = 20_000;

function stateFile(stateDir: string): string {
  return path.join(stateDir, 'state.json');
}

export async function readStackState(stateDir = defaultStateDir()): Promise<StackState> {
  try {
    return JSON.parse(await readFile(stateFile(stateDir), 'utf8')) as StackState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** Each component listed in state.json: is its process ours and alive, does it answer? */
export async function stackStatus(opts: StackOptions = {}): Promise<ComponentStatus[]> {
  const state = await readStackState(opts.stateDir ?? defaultStateDir());
  return Promise.all(COMPONENTS.map((name) => componentStatus(name, state)));
}

export interface StackUpResult {
  state: StackState;
  started: ComponentName[];
  alreadyRunning: ComponentName[];
}

/**
 * Starts whatever is not already up and answering, on the same ports and data dirs as before,
 * so a second `up` is a no-op and an `up` after `down` brings back the same data.
 */
export async function stackUp(opts: StackOptions = {}): Promise<StackUpResult> {
  const stateDir = path.resolve(opts.stateDir ?? defaultStateDir());
  const progress = opts.progress ?? noProgress;
  await mkdir(stateDir, { recursive: true });
  const state = await readStackState(stateDir);
  const statuses = await Promise.all(COMPONENTS.map((name) => componentStatus(name, state)));
  const alreadyRunning = statuses.filter((s) => s.running && s.reachable).map((s) => s.name);
  const toStart = COMPONENTS.filter((name) => !alreadyRunning.includes(name));

  // A listed process that lives but does not answer is wedged: replace it.
  for (const s of statuses) {
    const entry = state[s.name];
    if (s.running && !s.reachable && entry) {
      progress(`${s.name} (pid ${entry.pid}) is running but not answering; restarting it`);
      await stopPid(entry.pid, entry.marker, STOP_TIMEOUT_MS);
    }
  }

  const save = () => writeState(stateDir, state);
  const common = { detached: true, log: opts.log, progress };

  const kafkaUp = async () => {
    if (!toStart.includes('kafka')) return;
    const k = await startKafka({
      ...common,
      dataDir: path.join(stateDir, 'kafka'),
      port: opts.kafkaPort ?? state.kafka?.port ?? STACK_DEFAULTS.kafkaPort,
      controllerPort: opts.kafkaControllerPort ?? state.kafka?.controllerPort ?? STACK_DEFAULTS.kafkaControllerPort,
    });
    state.kafka = {
      pid: k.pid, marker: kafkaFiles(k.dataDir).serverProperties, logFile: k.logFile,
      brokers: k.brokers, port: k.port, controllerPort: k.controllerPort, dataDir: k.dataDir,
    };
    await save();
  };

  const openSearchAndProxyUp = async () => {
    if (toStart.includes('opensearch')) {
      const o = await startOpenSearch({
        ...common,
        dataDir: path.join(stateDir, 'opensearch'),
        port: opts.openSearchPort ?? state.opensearch?.port ?? STACK_DEFAULTS.openSearchPort,
      });
      state.opensearch = { pid: o.pid, marker: o.dataDir, logFile: o.logFile, url: o.url, port: o.port, dataDir: o.dataDir };
      await save();
    }
    if (toStart.includes('proxy') && state.opensearch) {
      state.proxy = await startDetachedProxy(stateDir, state.opensearch.url, opts.proxyPort ?? state.proxy?.port ?? STACK_DEFAULTS.proxyPort, common);
      await save();
    }
  };

  // Both JVMs start at once: each spends most of its start-up waiting on its own work.
  const results = await Promise.allSettled([kafkaUp(), openSearchAndProxyUp()]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return { state, started: toStart, alreadyRunning };
}

/**
 * Stops every listed process that is still ours. state.json and the data dirs stay, so the next
 * `up` brings back the same ports and data, and `status` says "stopped".
 */
export async function stackDown(opts: StackOptions = {}): Promise<ComponentName[]> {
  const stateDir = path.resolve(opts.stateDir ?? defaultStateDir());
  const progress = opts.progress ?? noProgress;
  const state = await readStackState(stateDir);
  const stop = async (name: ComponentName): Promise<ComponentName[]> => {
    const entry = state[name];
    if (!entry || !processMatches(entry.pid, entry.marker)) return [];
    progress(`stopping ${name} (pid ${entry.pid})`);
    return (await stopPid(entry.pid, entry.marker, STOP_TIMEOUT_MS)) ? [name] : [];
  };
  // The proxy first, so clients see a clean 502 rather than a half-stopped engine.
  const stopped = await stop('proxy');
  for (const names of await Promise.all([stop('kafka'), stop('opensearch')])) stopped.push(...names);
  return stopped;
}

type Entry<K extends ComponentName> = NonNullable<StackState[K]>;

/** How to reach each component, and how to ask whether it answers. */
const REACH: { [K in ComponentName]: (entry: Entry<K>) => { endpoint: string; probe: () => Promise<boolean> } } = {
  kafka: (k) => ({ endpoint: k.brokers.join(','), probe: () => kafkaReachable(k.brokers) }),
  opensearch: (o) => ({ endpoint: o.url, probe: () => openSearchReady(o.url) }),
  proxy: (p) => ({ endpoint: p.url, probe: () => esCompatReachable(p.url) }),
};

function componentStatus(name: ComponentName, state: StackState): Promise<ComponentStatus> {
  return statusOf(name, state[name]);
}

async function statusOf<K extends ComponentName>(name: K, entry: StackState[K]): Promise<ComponentStatus> {
  if (!entry) return { name, listed: false, running: false, reachable: false };
  const { endpoint, probe } = REACH[name](entry as Entry<K>);
  const running = processMatches(entry.pid, entry.marker);
  const reachable = running && (await probe());
  return { name, listed: true, running, reachable, pid: entry.pid, endpoint, logFile: entry.logFile };
}

async function startDetachedProxy(
  stateDir: string,
  target: string,
  port: number,
  common: { log?: Logger; progress: Progress },
): Promise<NonNullable<StackState['proxy']>> {
  const script = proxyScript();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(stateDir, 'es-compat-proxy.log');
  const service = await startServiceProcess({
    name: 'es-compat-proxy',
    command: process.execPath,
    args: [script, '--target', target, '--port', String(port)],
    cwd: stateDir,
    logFile,
    detached: true,
    isReady: () => esCompatReachable(url),
    readyTimeoutMs: 15_000,
    probeIntervalMs: 200,
    stopTimeoutMs: 5_000,
    ...common,
  });
  return { pid: service.pid, marker: `${script} --target ${target}`, logFile, url, port, target };
}

/** The compiled proxy: under jest this module is the .ts source, which node cannot run. */
function proxyScript(): string {
  const candidates = [path.join(__dirname, 'es-compat-proxy.js'), path.join(projectRoot(), 'dist', 'infra', 'es-compat-proxy.js')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`the compat proxy is not built (looked for ${candidates.join(', ')}): run \`npm run build\``);
  return found;
}

async function writeState(stateDir: string, state: StackState): Promise<void> {
  // Rename is atomic: a concurrent `status` never reads half a file.
  const tmp = `${stateFile(stateDir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, stateFile(stateDir));
}
