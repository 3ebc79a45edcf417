import { statSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic-write';
import type { FileIssue } from '../../core/yaml-file';
import type { RuleSet } from '../../rules/rule-set';
import type { ConsoleServices } from '../context';
import { ConsoleError } from '../request';
import { displayPath, type TopicFile, type TopicFiles } from './files';
import { type RuleVersion, type RulesHistory, versionDiff } from './history';

/**
 * Saving a topic file from the console: only over the version the editor started from, only when
 * valid, atomically (temporary file in the same folder, then rename, keeping the file's mode),
 * recorded in the history and the audit log, then loaded into the running rules. The pipeline's
 * own rule set watches the same files, so it picks the save up without a restart.
 */

export interface SaveRequest {
  file: TopicFile;
  text: string;
  /** The content digest the client last read; the save is refused if the file has changed since. */
  baseVersion: string;
  message: string;
  author: string;
  ip?: string;
  /** Set for a rollback: the version whose text is being restored. */
  rollbackOf?: number;
}

/** Which rules are in force after the save. */
export interface InForce {
  /** Whether the saved text is now part of the running set. */
  applied: boolean;
  /** The running set's version (RuleSet numbering) and load time; absent if no set ever loaded. */
  rules_version?: number;
  loaded_at?: string;
  /** Why the running set could not take the save (another file is broken…); the last good set stays. */
  issues: FileIssue[];
}

export interface SaveOutcome {
  /** The file's content digest now. */
  version: string;
  /** The history version that holds it. */
  history: RuleVersion;
  /** The text was already the file's content: nothing was written or recorded. */
  unchanged: boolean;
  in_force: InForce;
}

/** Audit entries keep the diff up to this many characters. */
const AUDIT_DIFF_CHARS = 50_000;

export interface TopicEditorDeps {
  files: TopicFiles;
  history: RulesHistory;
  rules: RuleSet;
  audit: ConsoleServices['audit'];
}

export class TopicEditor {
  readonly #deps: TopicEditorDeps;
  /** One save at a time per file in this process: read, compare, write and record are one step. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(deps: TopicEditorDeps) {
    this.#deps = deps;
  }

  /** The file's history, with any change made outside the console recorded first. */
  history(file: TopicFile): RuleVersion[] {
    this.#catchUp(file);
    return this.#deps.history.list(file.id);
  }

  save(request: SaveRequest): Promise<SaveOutcome> {
    const previous = this.#locks.get(request.file.id) ?? Promise.resolve();
    const run = previous.then(
      () => this.#save(request),
      () => this.#save(request),
    );
    const settled = run.catch(() => undefined);
    this.#locks.set(request.file.id, settled);
    void settled.then(() => {
      if (this.#locks.get(request.file.id) === settled) this.#locks.delete(request.file.id);
    });
    return run;
  }

  async #save(request: SaveRequest): Promise<SaveOutcome> {
    const { files, history, rules, audit } = this.#deps;
    const { file } = request;
    const current = this.#catchUp(file);
    if (current.version !== request.baseVersion) {
      throw new ConsoleError('SB_RULES_CONFLICT', `${displayPath(file.path)} has changed since it was opened; reload it and apply the edit again`, {
        details: { current_version: current.version },
        status: 409,
      });
    }
    const check = files.check(request.text, file);
    if (!check.ok) throw files.invalid(check.issues, `${displayPath(file.path)} not saved`);
    const latest = history.latest(file.id) as RuleVersion;
    if (request.text === current.text) {
      const reload = rules.reload();
      return { version: current.version, history: latest, unchanged: true, in_force: inForce(rules, reload.ok, reload.ok ? [] : reload.issues) };
    }

    writeFileAtomic(file.path, request.text, { mode: statSync(file.path).mode & 0o7777 });
    const message = request.message.trim() || (request.rollbackOf === undefined ? '（无说明）' : `回滚到版本 ${request.rollbackOf}`);
    const saved = history.record(file.id, { path: file.path, author: request.author, message, text: request.text });
    const reload = rules.reload();
    const diff = versionDiff(displayPath(file.path), { n: latest.n, text: current.text }, { n: saved.n, text: request.text });
    await audit({
      user: request.author,
      action: request.rollbackOf === undefined ? 'rules.save' : 'rules.rollback',
      target: `topics:${displayPath(file.path)}`,
      before: { version: current.version, history: latest.n },
      after: {
        version: saved.digest,
        history: saved.n,
        ...(request.rollbackOf === undefined ? {} : { restored: request.rollbackOf }),
        diff: diff.length > AUDIT_DIFF_CHARS ? `${diff.slice(0, AUDIT_DIFF_CHARS)}\n… (diff cut at ${AUDIT_DIFF_CHARS} characters)` : diff,
      },
      note: message,
      ...(request.ip ? { ip: request.ip } : {}),
    });
    return { version: saved.digest, history: saved, unchanged: false, in_force: inForce(rules, reload.ok, reload.ok ? [] : reload.issues) };
  }

  /** Reads the file and records it as an external change if it differs from the latest version. */
  #catchUp(file: TopicFile): { text: string; version: string } {
    const current = this.#deps.files.read(file);
    this.#deps.history.catchUp(file.id, file.path, current.text);
    return current;
  }
}

function inForce(rules: RuleSet, applied: boolean, issues: FileIssue[] = []): InForce {
  const current = rules.current;
  return {
    applied,
    ...(current ? { rules_version: current.version, loaded_at: current.loadedAt.toISOString() } : {}),
    issues,
  };
}
