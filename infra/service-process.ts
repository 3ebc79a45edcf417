import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShaobingError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { noProgress, seconds, type Progress } from './progress';
import { isProcessAlive } from '../core/process';

/** What every local service (Kafka, OpenSearch) takes. */
export interface LocalServiceOptions {
  /** Holds the service's config, data and log; reusing it restarts the same service with its data. */
  dataDir: string;
  /** 0 or undefined: pick a free port. */
  port?: number;
  heapMb?: number;
  log?: Logger;
  progress?: Progress;
  /** Outlive this process (for `infra up`); default false: stopped when this process exits. */
  detached?: boolean;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  cacheDir?: string;
}

/** What every running local service reports. */
export interface LocalService {
  port: number;
  pid: number;
  dataDir: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after stopTimeoutMs. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** For messages: `kafka`, `opensearch`, `es-compat-proxy`. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** stdout and stderr of the process go here (appended), never to ours. */
  logFile: string;
  /** Own process group and unref'd, so it outlives us; otherwise it is stopped when we exit. */
  detached: boolean;
  /** One readiness probe; must resolve false (not hang) while the service is not ready. */
  isReady: () => Promise<boolean>;
  readyTimeoutMs: number;
  probeIntervalMs?: number;
  stopTimeoutMs: number;
  log?: Logger;
  progress?: Progress;
}

export interface ServiceProcess {
  pid: number;
  /** SIGTERM, then SIGKILL after stopTimeoutMs. Safe to call twice. */
  stop(): Promise<void>;
}

/** Attached children still running when this process exits; see stopAttachedOnExit. */
const attached = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Spawns a service with its output in a log file and waits until `isReady` says yes. On a
 * timeout or an early exit the process is stopped and the error quotes its log (logExcerpt).
 */
export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const log = opts.log ?? silentLogger;
  const progress = opts.progress ?? noProgress;
  const startedAt = Date.now();

  const fd = openSync(opts.logFile, 'a');
  // Restarts append to the same file; the marker lets an error quote this start's lines only.
  writeSync(fd, `\n${START_MARKER} ${opts.name} at ${new Date().toISOString()} ===\n`);
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      detached: opts.detached,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
  } finally {
    closeSync(fd);
  }

  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      attached.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exit = `could not be spawned (${err.message})`;
      resolve();
    });
  });
  const isAlive = () => exit === undefined && child.exitCode === null && child.signalCode === null;

  if (opts.detached) child.unref();
  else trackAttached(child);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= child.pid === undefined ? Promise.resolve() : terminate(child.pid, isAlive, opts.stopTimeoutMs, exited);
    return stopping;
  };

  const fail = async (reason: string): Promise<never> => {
    await stop();
    const excerpt = await logExcerpt(opts.logFile);
    throw new ShaobingError('SB_INFRA_START_FAILED', `${opts.name} ${reason}; from ${opts.logFile}:\n${excerpt}`);
  };

  // Spawn errors (e.g. ENOENT) arrive asynchronously; give them one tick before trusting pid.
  await new Promise((resolve) => setImmediate(resolve));
  if (child.pid === undefined || !isAlive()) return fail(exit ?? 'could not be spawned');
  log.info({ name: opts.name, pid: child.pid, logFile: opts.logFile }, 'service process spawned');
  progress(`waiting for ${opts.name} (pid ${child.pid}, log ${opts.logFile})`);

  const deadline = startedAt + opts.readyTimeoutMs;
  for (;;) {
    if (await opts.isReady()) break;
    if (!isAlive()) return fail(exit ?? 'exited');
    if (Date.now() > deadline) return fail(`was not ready after ${opts.readyTimeoutMs / 1000} s`);
    await Promise.race([sleep(opts.probeIntervalMs ?? 500), exited]);
  }
  log.info({ name: opts.name, pid: child.pid, readyAfterMs: Date.now() - startedAt }, 'service ready');
  progress(`${opts.name} ready in ${seconds(startedAt)}`);
  return { pid: child.pid, stop };
}

/**
 * Stops a process this process did not spawn (one listed in the stack's state.json). `marker`
 * must appear in its command line, so a pid reused by an unrelated process is left alone.
 * Returns false when no such process was running.
 */
export async function stopPid(pid: number, marker: string, stopTimeoutMs: number): Promise<boolean> {
  if (!processMatches(pid, marker)) return false;
  await terminate(pid, () => isProcessAlive(pid), stopTimeoutMs);
  return true;
}

/** True when `pid` runs and its command line contains `marker` (where /proc can tell). */
export function processMatches(pid: number, marker: string): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    // No /proc (macOS): a live pid is the best evidence there is.
    return true;
  }
}

const START_MARKER = '=== shaobing: starting';

/**
 * What a failed start's error should show: the first error lines of this start (a JVM's last
 * lines are usually its orderly shutdown, not the cause), then the last lines.
 */
export async function logExcerpt(file: string, errorLines = 10, lastLines = 20): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
  const lines = text.slice(Math.max(0, text.lastIndexOf(START_MARKER))).trimEnd().split('\n');
  const tail = lines.slice(-lastLines);
  const errors = lines.slice(0, -lastLines).filter((line) => /\b(ERROR|FATAL)\b|Exception\b/.test(line)).slice(0, errorLines);
  return errors.length ? [...errors, '...', ...tail].join('\n') : tail.join('\n');
}


async function terminate(pid: number, isAlive: () => boolean, stopTimeoutMs: number, exited?: Promise<void>): Promise<void> {
  const waitForExit = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (isAlive() && Date.now() < deadline) await Promise.race([sleep(100), exited ?? sleep(100)]);
  };
  if (!isAlive()) return;
  signal(pid, 'SIGTERM');
  await waitForExit(stopTimeoutMs);
  if (!isAlive()) return;
  signal(pid, 'SIGKILL');
  await waitForExit(5_000);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Attached services must not outlive us: a crashed jest run would otherwise leave JVMs holding
 * ports. 'exit' handlers cannot wait, so this only sends SIGTERM; the JVMs shut down on their own.
 */
function trackAttached(child: ChildProcess): void {
  attached.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of attached) if (c.pid !== undefined) signal(c.pid, 'SIGTERM');
  });
}
