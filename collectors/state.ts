import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { silentLogger, type Logger } from '../core/logger';
import { writeFileAtomic } from '../core/atomic-write';

/**
 * What a source remembers between rounds and across restarts: cursors (the newest post time reached
 * per keyword, a visitor cookie…), conditional-GET validators per URL, and a bounded set of the
 * document ids already emitted. One JSON file per source under `<data_dir>/collectors/`, written
 * atomically (temporary file, fsync, rename): a crash leaves the old file or the new one, never half.
 *
 * Ids enter the seen-set only after the bus accepted the document, and cursors move only after the
 * round's documents were accepted, so a restart neither re-emits nor misses (a crash between the
 * publish and the save can re-emit that round: the pipeline dedups by id).
 */

const StateFile = z.object({
  version: z.literal(1),
  source: z.string(),
  saved_at: z.string(),
  cursors: z.record(z.string(), z.string()).default({}),
  validators: z.record(z.string(), z.object({ etag: z.string().optional(), last_modified: z.string().optional() })).default({}),
  /** Oldest first. */
  seen: z.array(z.string()).default([]),
});

export interface Validators {
  etag?: string;
  last_modified?: string;
}

export class SourceState {
  readonly source: string;
  readonly #capacity: number;
  readonly #seen = new Set<string>();
  readonly #cursors = new Map<string, string>();
  readonly #validators = new Map<string, Validators>();
  #dirty = false;

  constructor(source: string, capacity: number) {
    this.source = source;
    this.#capacity = capacity;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  hasSeen(id: string): boolean {
    return this.#seen.has(id);
  }

  /** Remembers an id; past capacity the oldest are forgotten (insertion order). */
  markSeen(id: string): void {
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    this.#dirty = true;
    while (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.values().next().value as string;
      this.#seen.delete(oldest);
    }
  }

  get seenCount(): number {
    return this.#seen.size;
  }

  cursor(key: string): string | undefined {
    return this.#cursors.get(key);
  }

  setCursor(key: string, value: string | undefined): void {
    if (value === undefined) {
      if (this.#cursors.delete(key)) this.#dirty = true;
      return;
    }
    if (this.#cursors.get(key) === value) return;
    this.#cursors.set(key, value);
    this.#dirty = true;
  }

  validators(url: string): Validators {
    return this.#validators.get(url) ?? {};
  }

  setValidators(url: string, v: Validators): void {
    const clean: Validators = {};
    if (v.etag) clean.etag = v.etag;
    if (v.last_modified) clean.last_modified = v.last_modified;
    if (!clean.etag && !clean.last_modified) {
      if (this.#validators.delete(url)) this.#dirty = true;
      return;
    }
    this.#validators.set(url, clean);
    this.#dirty = true;
  }

  toJSON(): z.input<typeof StateFile> {
    return {
      version: 1,
      source: this.source,
      saved_at: new Date().toISOString(),
      cursors: Object.fromEntries(this.#cursors),
      validators: Object.fromEntries(this.#validators),
      seen: [...this.#seen],
    };
  }

  /** @internal loading */
  restore(data: z.output<typeof StateFile>): void {
    for (const [k, v] of Object.entries(data.cursors)) this.#cursors.set(k, v);
    for (const [k, v] of Object.entries(data.validators)) this.#validators.set(k, v);
    for (const id of data.seen) this.markSeen(id);
    this.#dirty = false;
  }

  /** @internal saving */
  clean(): void {
    this.#dirty = false;
  }
}

export interface StateStoreOptions {
  /** Folder of the state files; undefined keeps state in memory only (`collect --once`). */
  dir: string | undefined;
  seenCapacity: number;
  log?: Logger;
}

export class StateStore {
  readonly dir: string | undefined;
  readonly #capacity: number;
  readonly #log: Logger;

  constructor(options: StateStoreOptions) {
    this.dir = options.dir;
    this.#capacity = options.seenCapacity;
    this.#log = options.log ?? silentLogger;
    if (this.dir) mkdirSync(this.dir, { recursive: true });
  }

  /** The source's state as last saved; a missing or unreadable file starts empty (and says so). */
  load(source: string): SourceState {
    const state = new SourceState(source, this.#capacity);
    if (!this.dir) return state;
    const file = this.fileOf(source);
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ file, err }, 'collector state unreadable; starting empty');
      return state;
    }
    try {
      state.restore(StateFile.parse(JSON.parse(raw)));
    } catch (err) {
      this.#log.error({ file, err: (err as Error).message }, 'collector state file is corrupt; starting empty (documents may be re-emitted once)');
    }
    return state;
  }

  /** Writes atomically when something changed. */
  save(state: SourceState): void {
    if (!this.dir || !state.dirty) return;
    const file = this.fileOf(state.source);
    writeFileAtomic(file, JSON.stringify(state.toJSON()));
    state.clean();
  }

  fileOf(source: string): string {
    if (!this.dir) throw new Error('in-memory state has no file');
    return join(this.dir, `${encodeURIComponent(source)}.json`);
  }
}
