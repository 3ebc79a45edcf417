import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../core/config';
import { openEmbeddedDatabase } from '../core/embedded-db';
import type { Logger } from '../core/logger';
import { AuditEntry } from '../core/records';
import { createStore } from '../store';
import type { Store } from '../store/types';
import type { ConsolePaths, ConsoleServices } from './context';
import { writeFileAtomic } from '../core/atomic-write';

/**
 * The audit log: one entry per state change, written to the store (`putAudit`). Ids start with
 * the time in hex, so entries of one millisecond still sort in the order they were made.
 *
 * A CLI command (`shaobing user add` …) cannot always reach the store: the embedded one is locked
 * by a running daemon. Its entry then waits as one file in `<data_dir>/console/audit-pending/`
 * (written whole, then renamed into place), and the console imports and deletes those files when
 * it starts and every few seconds while it runs. Importing twice is harmless: putAudit is
 * idempotent by id. One file per entry, rather than one appended file, means an import can never
 * delete an entry a command was writing at that moment.
 */

export type AuditInput = Parameters<ConsoleServices['audit']>[0];

export function auditId(at: number): string {
  return `${at.toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

export function auditEntry(input: AuditInput, now: Date): AuditEntry {
  return AuditEntry.parse({ ...withoutUndefined(input), id: auditId(now.getTime()), at: now.toISOString() });
}

/** services.audit: records the entry in the store. */
export function createAudit(store: Store, now: () => Date): ConsoleServices['audit'] {
  return async (input) => {
    await store.putAudit([auditEntry(input, now())]);
  };
}

function pendingDir(paths: Pick<ConsolePaths, 'stateDir'>): string {
  return join(paths.stateDir, 'audit-pending');
}

export function queueAudit(paths: Pick<ConsolePaths, 'stateDir'>, entry: AuditEntry): string {
  const dir = pendingDir(paths);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${entry.id}.json`);
  writeFileAtomic(file, JSON.stringify(entry), { mode: 0o600 });
  return file;
}

/** Moves queued CLI entries into the store; returns how many. A malformed file is logged and set aside as `.bad`. */
export async function importQueuedAudit(store: Store, paths: Pick<ConsolePaths, 'stateDir'>, log: Logger): Promise<number> {
  const dir = pendingDir(paths);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const entries: Array<{ file: string; entry: AuditEntry }> = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      entries.push({ file, entry: AuditEntry.parse(JSON.parse(readFileSync(file, 'utf8'))) });
    } catch (err) {
      log.error({ err, file }, 'queued audit entry is malformed; set aside');
      renameSync(file, `${file}.bad`);
    }
  }
  if (entries.length === 0) return 0;
  await store.putAudit(entries.map((e) => e.entry));
  for (const { file } of entries) rmSync(file, { force: true });
  log.info({ count: entries.length }, 'audit entries from CLI commands recorded');
  return entries.length;
}

/** `cli:<os user>`, the audit log's name for whoever ran a command on the server. */
export function cliUser(): string {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? 'unknown';
  }
  return `cli:${name}`;
}

/**
 * Records a CLI command's change: straight into the store when it can be opened, else (the
 * embedded store locked by a running daemon, the search engine down) queued for the console.
 * Says which on the returned value, for the command to tell its user.
 */
export async function recordCliAudit(config: Config, paths: Pick<ConsolePaths, 'stateDir'>, input: AuditInput): Promise<{ queued?: string }> {
  const entry = auditEntry(input, new Date());
  const store = createStore(config, { openDatabase: () => openEmbeddedDatabase(config.data_dir) });
  try {
    await store.init();
    await store.putAudit([entry]);
    return {};
  } catch {
    return { queued: queueAudit(paths, entry) };
  } finally {
    await store.close().catch(() => undefined);
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
