import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { FileIssue } from '../../core/yaml-file';
import { checkTopicSources, expandTopicPaths, type LoadedTopics, parseTopicFile, type Topic, type TopicSource } from '../../rules/topics';
import { ConsoleError } from '../request';

/**
 * The topic files the console may show and edit: exactly those under `rules.paths`, as the rule
 * set loads them. Clients name a file by an opaque id (a digest of its resolved path) that only
 * this list turns back into a path, so no request can reach a file outside it, whatever it sends.
 */

export interface TopicFile {
  /** Opaque, stable while the file's path is. */
  id: string;
  /** Absolute. */
  path: string;
}

/** Where a text came from and what it was checked as: the file it replaces, or a new one. */
const UNSAVED_FILE = '(unsaved)';

export function fileId(path: string): string {
  return createHash('sha256').update(resolve(path)).digest('hex').slice(0, 16);
}

/** A file's version as clients see it: a digest of its content, so an edit made anywhere changes it. */
export function contentVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A path for people to read: relative to the working directory when under it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export interface ClientIssue {
  /** The file's id; null for a text not saved anywhere, or a path that is not a topic file (an empty folder). */
  file: string | null;
  path: string;
  line: number;
  col: number;
  /** Key path, e.g. topics.0.level. */
  key: string;
  message: string;
}

export interface TextCheck {
  ok: boolean;
  /** Issues in the checked text only, including topic ids that another file defines too. */
  issues: FileIssue[];
  /** The topics the text defines; empty unless it is valid. */
  topics: Topic[];
}

export class TopicFiles {
  readonly #paths: readonly string[];
  /** The last text parsed per file and its result: files not being edited are parsed once, not per keystroke. */
  readonly #parsed = new Map<string, { text: string; result: ReturnType<typeof parseTopicFile> }>();
  readonly #parse = (text: string, file: string): ReturnType<typeof parseTopicFile> => {
    const known = this.#parsed.get(file);
    if (known?.text === text) return known.result;
    const result = parseTopicFile(text, file);
    this.#parsed.set(file, { text, result });
    return result;
  };

  constructor(paths: readonly string[]) {
    this.#paths = paths;
  }

  /** The files under `rules.paths` now (a file added to a folder appears), and folders holding none. */
  list(): { files: TopicFile[]; issues: FileIssue[] } {
    const files: TopicFile[] = [];
    const issues: FileIssue[] = [];
    for (const entry of expandTopicPaths(this.#paths)) {
      if (typeof entry === 'string') files.push({ id: fileId(entry), path: entry });
      else issues.push(entry);
    }
    return { files, issues };
  }

  /** The file a client's id names; 404 for anything else (a path, `..`, an id of a file no longer configured). */
  resolve(id: string): TopicFile {
    const file = this.list().files.find((f) => f.id === id);
    if (!file) throw new ConsoleError('SB_CONSOLE_NOT_FOUND', 'no such topic file');
    return file;
  }

  read(file: TopicFile): { text: string; version: string } {
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (err) {
      throw new ConsoleError('SB_CONSOLE_NOT_FOUND', `topic file ${displayPath(file.path)} cannot be read: ${(err as Error).message}`);
    }
    return { text, version: contentVersion(text) };
  }

  /** Issues as clients get them: the file's id and readable path, and no server path in the message. */
  issuesJson(issues: readonly FileIssue[]): ClientIssue[] {
    const known = this.list().files;
    return issues.map((issue) => {
      let message = issue.message;
      for (const f of known) message = message.split(f.path).join(displayPath(f.path));
      const file = known.find((f) => f.path === issue.file);
      return { file: file?.id ?? null, path: displayPath(issue.file), line: issue.line, col: issue.col, key: issue.path.join('.'), message };
    });
  }

  /** 422 SB_CONFIG_INVALID with the issues, for a text refused. */
  invalid(issues: readonly FileIssue[], what: string): ConsoleError {
    return new ConsoleError('SB_CONFIG_INVALID', `${what}: ${issues.length} issue(s)`, { status: 422, details: { issues: this.issuesJson(issues) } });
  }

  /** The topics a file's text defines on its own (none if it is invalid). */
  topics(text: string, file: TopicFile): Topic[] {
    const parsed = this.#parse(text, file.path);
    return parsed.ok ? parsed.topics : [];
  }

  /** Every file as on disk, checked together as the rule set would load them. */
  load(): { files: Array<TopicFile & { text?: string }>; loaded: LoadedTopics } {
    const { files, issues } = this.list();
    const sources: TopicSource[] = [];
    const read = files.map((file) => {
      try {
        const text = readFileSync(file.path, 'utf8');
        sources.push({ file: file.path, text });
        return { ...file, text };
      } catch (err) {
        issues.push({ file: file.path, line: 1, col: 1, path: [], message: `cannot read: ${(err as Error).message}` });
        return file;
      }
    });
    const checked = checkTopicSources(sources, this.#parse);
    const loaded: LoadedTopics = issues.length === 0 ? checked : { ok: false, issues: [...issues, ...(checked.ok ? [] : checked.issues)] };
    return { files: read, loaded };
  }

  /**
   * Checks a text as the content of `target` (or of a new file), against the other files as they are
   * on disk: what a save followed by a reload would report about it. The text goes last, so a topic
   * id it shares with another file is reported in it, whichever file comes first.
   */
  check(text: string, target?: TopicFile): TextCheck {
    const file = target?.path ?? UNSAVED_FILE;
    const own = this.#parse(text, file);
    if (!own.ok) return { ok: false, issues: own.issues, topics: [] };
    const others: TopicSource[] = [];
    for (const other of this.list().files) {
      if (other.path === file) continue;
      try {
        others.push({ file: other.path, text: readFileSync(other.path, 'utf8') });
      } catch {
        // An unreadable other file is that file's problem, shown in the file list; it defines no ids.
      }
    }
    const together = checkTopicSources([...others, { file, text }], this.#parse);
    const issues = together.ok ? [] : together.issues.filter((issue) => issue.file === file);
    return { ok: issues.length === 0, issues, topics: issues.length === 0 ? own.topics : [] };
  }
}
