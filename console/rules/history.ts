import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/atomic-write';
import { ShaobingError } from '../../core/errors';
import { contentVersion } from './files';

/**
 * Every version of every topic file, kept beside the files (which stay the source of truth, so
 * teams can keep them in git): per file, one small JSON record per version (number, author, time,
 * message, digest) and the texts stored once each under their digest. A version number is claimed
 * by hard-linking a finished temporary file to its name, which fails if another writer took it:
 * two processes saving at once get two numbers, never one overwritten record.
 *
 *   <dir>/<file id>/versions/000001.json
 *   <dir>/<file id>/texts/<sha256>.yaml
 */

/** The author of a version found on disk rather than saved through the console (git pull, an editor). */
export const EXTERNAL_AUTHOR = '(external)';

const VersionRecord = z.strictObject({
  n: z.number().int().min(1),
  author: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  message: z.string(),
  /** sha256 of the text: the file's `version` as the API reports it. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /** The file's path when the version was recorded. */
  path: z.string(),
});
export type RuleVersion = z.output<typeof VersionRecord>;

const RECORD_NAME = /^(\d{6,})\.json$/;

export interface NewVersion {
  path: string;
  author: string;
  message: string;
  text: string;
}

export class RulesHistory {
  readonly #dir: string;
  readonly #now: () => Date;

  constructor(dir: string, now: () => Date = () => new Date()) {
    this.#dir = dir;
    this.#now = now;
  }

  /** Oldest first. */
  list(fileId: string): RuleVersion[] {
    const dir = this.#versionsDir(fileId);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((name) => RECORD_NAME.test(name))
      .sort()
      .map((name) => this.#readRecord(join(dir, name)));
  }

  latest(fileId: string): RuleVersion | undefined {
    return this.list(fileId).at(-1);
  }

  get(fileId: string, n: number): { version: RuleVersion; text: string; previous?: { version: RuleVersion; text: string } } | undefined {
    const versions = this.list(fileId);
    const index = versions.findIndex((v) => v.n === n);
    if (index < 0) return undefined;
    const at = (i: number) => ({ version: versions[i] as RuleVersion, text: this.#readText(fileId, (versions[i] as RuleVersion).digest) });
    return { ...at(index), ...(index > 0 ? { previous: at(index - 1) } : {}) };
  }

  record(fileId: string, entry: NewVersion): RuleVersion {
    const digest = contentVersion(entry.text);
    const texts = join(this.#dir, fileId, 'texts');
    const versions = this.#versionsDir(fileId);
    mkdirSync(texts, { recursive: true });
    mkdirSync(versions, { recursive: true });
    // Same digest, same bytes: a concurrent writer of the same text writes the same file.
    writeFileAtomic(join(texts, `${digest}.yaml`), entry.text);
    for (let n = (this.latest(fileId)?.n ?? 0) + 1; ; n++) {
      const version: RuleVersion = { n, author: entry.author, at: this.#now().toISOString(), message: entry.message, digest, path: entry.path };
      const tmp = join(versions, `.${n}.${process.pid}.tmp`);
      writeFileSync(tmp, `${JSON.stringify(version, null, 2)}\n`);
      try {
        linkSync(tmp, join(versions, `${String(n).padStart(6, '0')}.json`));
        return version;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        rmSync(tmp, { force: true });
      }
    }
  }

  /**
   * Records the file's current text as a version by EXTERNAL_AUTHOR unless it is already the latest
   * one, so history stays complete when files change outside the console. Returns the new version.
   */
  catchUp(fileId: string, path: string, text: string): RuleVersion | undefined {
    const latest = this.latest(fileId);
    if (latest?.digest === contentVersion(text)) return undefined;
    const message = latest ? '控制台之外的修改（git、编辑器等）' : '首次纳入版本历史';
    return this.record(fileId, { path, author: EXTERNAL_AUTHOR, message, text });
  }

  #versionsDir(fileId: string): string {
    return join(this.#dir, fileId, 'versions');
  }

  #readRecord(file: string): RuleVersion {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ShaobingError('SB_RECORD_INVALID', `rules history record ${file} cannot be read: ${(err as Error).message}`);
    }
    const parsed = VersionRecord.safeParse(json);
    if (!parsed.success) throw new ShaobingError('SB_RECORD_INVALID', `rules history record ${file}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  #readText(fileId: string, digest: string): string {
    const file = join(this.#dir, fileId, 'texts', `${digest}.yaml`);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ShaobingError('SB_RECORD_INVALID', `rules history text ${file} cannot be read: ${(err as Error).message}`);
    }
  }
}

/** A unified diff from one version's text to another's, headed with the file's path and the version numbers. */
export function versionDiff(path: string, before: { n?: number; text: string }, after: { n: number; text: string }): string {
  return createTwoFilesPatch(path, path, before.text, after.text, before.n === undefined ? '(none)' : `v${before.n}`, `v${after.n}`);
}
