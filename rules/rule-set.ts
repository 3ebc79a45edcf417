import { type Logger, silentLogger } from '../core/logger';
import { watchFiles } from '../core/watch-files';
import { type FileIssue, formatIssue, YamlValidationError } from '../core/yaml-file';
import { compileTopics, type Matcher } from './matcher';
import { type LoadedTopic, loadTopicFiles } from './topics';

/**
 * The running topics, hot-reloadable. A reload that finds any broken file keeps the last good
 * set and reports every issue as `file:line:col: …`; running rules never go down because of an
 * edit. Compiled sets are immutable: a document matched during a reload sees the old or the new
 * set, never a mixture.
 */

export interface RuleSetOptions {
  /** Topic files, or directories whose *.yaml / *.yml files are topic files. */
  paths: readonly string[];
  /** Quiet period after the last file event before `watch()` reloads; default 300 ms (editors write in bursts). */
  debounceMillis?: number;
  /** Default: silent. */
  logger?: Logger;
}

export interface RuleSnapshot {
  matcher: Matcher;
  topics: readonly LoadedTopic[];
  files: readonly string[];
  /** Changes exactly when a file's content or the set of files changes. */
  digest: string;
  /** 1 for the first set loaded, +1 for each set that replaced it. */
  version: number;
  loadedAt: Date;
}

export type ReloadResult =
  | { ok: true; changed: boolean; rules: RuleSnapshot }
  | { ok: false; issues: FileIssue[]; /** The set still in force, if any. */ rules: RuleSnapshot | undefined };

export interface RuleSetEvents {
  /** A new set is in force. */
  reloaded: (rules: RuleSnapshot) => void;
  /** A reload failed; `kept` is still in force. */
  rejected: (issues: FileIssue[], kept: RuleSnapshot | undefined) => void;
}

const EVENTS: ReadonlyArray<keyof RuleSetEvents> = ['reloaded', 'rejected'];

export class RuleSet {
  readonly #paths: string[];
  readonly #debounceMillis: number;
  readonly #logger: Logger;
  readonly #listeners: { [E in keyof RuleSetEvents]: Set<RuleSetEvents[E]> } = { reloaded: new Set(), rejected: new Set() };
  #current: RuleSnapshot | undefined;
  #unwatch: (() => void) | undefined;

  constructor(options: RuleSetOptions) {
    this.#paths = [...options.paths];
    this.#debounceMillis = options.debounceMillis ?? 300;
    this.#logger = options.logger ?? silentLogger;
  }

  /** A rule set with its first load done; throws SB_CONFIG_INVALID listing every issue if that load fails. */
  static load(options: RuleSetOptions): RuleSet {
    const set = new RuleSet(options);
    const result = set.reload();
    if (!result.ok) throw new YamlValidationError(result.issues);
    return set;
  }

  /** The set in force; undefined until a load succeeds. */
  get current(): RuleSnapshot | undefined {
    return this.#current;
  }

  /** Reads and compiles the files again; never throws for bad files. Unchanged files are not recompiled. */
  reload(): ReloadResult {
    const kept = this.#current;
    const loaded = loadTopicFiles(this.#paths);
    if (!loaded.ok) return this.#reject(loaded.issues);
    if (kept && loaded.digest === kept.digest) return { ok: true, changed: false, rules: kept };
    let matcher: Matcher;
    try {
      matcher = compileTopics(loaded.topics);
    } catch (err) {
      // Loading validates everything compiling checks, so this is a bug; it must still not take the rules down.
      return this.#reject([{ file: this.#paths.join(', '), line: 1, col: 1, path: [], message: `cannot compile topics: ${(err as Error).message}` }]);
    }
    const rules: RuleSnapshot = {
      matcher,
      topics: loaded.topics,
      files: loaded.files,
      digest: loaded.digest,
      version: (kept?.version ?? 0) + 1,
      loadedAt: new Date(),
    };
    this.#current = rules;
    this.#logger.info({ version: rules.version, topics: rules.topics.length, keywords: matcher.keywordCount, files: rules.files }, 'topic rules loaded');
    this.#emit('reloaded', rules);
    return { ok: true, changed: true, rules };
  }

  /** Reloads after files change (core/watch-files.ts says how); idempotent. */
  watch(): void {
    this.#unwatch ??= watchFiles(this.#paths, () => this.reload(), { debounceMillis: this.#debounceMillis, log: this.#logger, what: 'topic files' });
  }

  /** Stops watching; safe to call more than once. */
  close(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  /** Adds a listener; returns a function that removes it. A listener that throws is logged, never propagated. */
  on<E extends keyof RuleSetEvents>(event: E, listener: RuleSetEvents[E]): () => void {
    if (!EVENTS.includes(event)) throw new TypeError(`unknown rule set event "${String(event)}"; expected one of ${EVENTS.join(', ')}`);
    const listeners = this.#listeners[event] as Set<RuleSetEvents[E]>;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  #reject(issues: FileIssue[]): ReloadResult {
    this.#logger.warn({ issues: issues.map(formatIssue), keptVersion: this.#current?.version }, 'topic rules rejected; keeping the last good set');
    this.#emit('rejected', issues, this.#current);
    return { ok: false, issues, rules: this.#current };
  }

  #emit<E extends keyof RuleSetEvents>(event: E, ...args: Parameters<RuleSetEvents[E]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...a: Parameters<RuleSetEvents[E]>) => void)(...args);
      } catch (err) {
        this.#logger.error({ err, event }, 'a rule set listener threw');
      }
    }
  }
}
