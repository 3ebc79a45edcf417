import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { ShaobingError } from './errors';
import { isProcessAlive } from './process';

/**
 * The embedded backends (bus and store) share one PGlite database under data_dir: PostgreSQL
 * compiled to WebAssembly, installed from npm with nothing to compile, durable across kill -9.
 * One process owns a data dir at a time; a lock file with its pid guards that.
 */
export interface EmbeddedDatabase {
  readonly db: PGlite;
  readonly dir: string;
  /** Each user releases once; the last release closes the database. */
  release(): Promise<void>;
}

interface Open {
  db: Promise<PGlite>;
  users: number;
  closing?: Promise<void>;
}

const open = new Map<string, Open>();

export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const dir = join(dataDir, 'embedded');
  let entry = open.get(dir);
  // No await between looking and registering: the bus and the store open concurrently at start,
  // and two PGlite instances on one directory each overwrite the other's files.
  while (entry?.closing) {
    await entry.closing;
    entry = open.get(dir);
  }
  if (!entry) {
    mkdirSync(dir, { recursive: true });
    takeLock(dir);
    entry = { db: PGlite.create(join(dir, 'pg')), users: 0 };
    open.set(dir, entry);
  }
  entry.users++;
  const db = await entry.db.catch((err: unknown) => {
    open.delete(dir);
    rmSync(lockFile(dir), { force: true });
    throw new ShaobingError('SB_STORE_UNAVAILABLE', `cannot open the embedded database in ${dir}: ${(err as Error).message}`, {
      cause: err,
      retriable: false,
    });
  });
  let released = false;
  const current = entry;
  return {
    db,
    dir,
    async release() {
      if (released) return;
      released = true;
      if (--current.users > 0) return;
      current.closing = db.close().finally(() => {
        rmSync(lockFile(dir), { force: true });
        open.delete(dir);
      });
      await current.closing;
    },
  };
}

function lockFile(dir: string): string {
  return join(dir, 'owner.pid');
}

function takeLock(dir: string): void {
  const file = lockFile(dir);
  try {
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (owner && owner !== process.pid && isProcessAlive(owner)) {
      throw new ShaobingError(
        'SB_STORE_UNAVAILABLE',
        `${dir} is in use by process ${owner}; the embedded backends serve one process (configure Kafka and Elasticsearch to run several)`,
        { retriable: false },
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const fd = openSync(file, 'w');
  writeSync(fd, String(process.pid));
  closeSync(fd);
}
