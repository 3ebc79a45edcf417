import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, LineCounter, parseDocument, type Node as YamlNode, type Scalar } from 'yaml';
import { z } from 'zod';
import { type FileIssue, type KeyPath, parseYaml } from '../core/yaml-file';
import { exprTerms, parseExpr } from './expr';
import { normalizeKeyword } from './normalize';

/**
 * Topic (专题) files: YAML, one `topics:` list per file, validated strictly (an unknown key is an
 * error, not ignored), with every mistake reported as `file:line:col: key.path: message`. Errors
 * inside an `expr` point at the offending character of the expression.
 *
 *   topics:
 *     - id: wuhan-chemical-blast
 *       name: 武汉化工安全事故
 *       region: [武汉, 湖北]          # 地域词: at least one must occur
 *       subject: [化工厂, 工厂]        # 主体词: at least one must occur
 *       event: [爆炸, 起火, 泄漏]      # 事件词: at least one must occur
 *       exclude: [演练, 演习]          # 排除词: none may occur
 *       expr: near((化工|工厂), 爆炸, 20) | title:(爆炸)   # ANDed with the groups; see expr.ts
 *       threshold: 0.3               # relevance needed to match, 0..1
 *       alert_on: negative           # or any
 *       level: 2                     # base warning level: 1 一级 severe … 3 三级 minor
 *       policy: default              # duty policy the alerts go to
 */

export const GROUPS = ['region', 'subject', 'event'] as const;
export type GroupName = (typeof GROUPS)[number];

const Keywords = z.array(z.string().min(1, 'empty keyword')).min(1, 'list at least one keyword, or leave the key out');

/** Letters, digits, `_`, `.` and `-`: ids appear in URLs, alert ids and command lines. */
const TOPIC_ID = /^[\p{L}\p{N}][\p{L}\p{N}_.-]*$/u;

export const TopicSchema = z
  .strictObject({
    id: z.string().max(100).regex(TOPIC_ID, 'an id is letters, digits, "_", "." and "-", starting with a letter or digit'),
    name: z.string().min(1).max(200),
    region: Keywords.optional(),
    subject: Keywords.optional(),
    event: Keywords.optional(),
    exclude: Keywords.optional(),
    expr: z.string().min(1, 'empty expression').optional(),
    /** Relevance (0..1) a document needs for the topic to match. */
    threshold: z.number().min(0).max(1).default(0.3),
    /** `negative`: alert only on negative passages; `any`: on every match. */
    alert_on: z.enum(['negative', 'any']).default('negative'),
    /** Base warning level, before the level policy raises it. */
    level: z.literal([1, 2, 3], { error: 'level is 1 (一级, severe), 2 (二级) or 3 (三级, minor)' }).default(3),
    /** Name of the duty policy its alerts go to. */
    policy: z.string().min(1).default('default'),
  })
  .refine((t) => GROUPS.some((g) => t[g]) || t.expr !== undefined, {
    message: 'a topic needs at least one of region, subject, event or expr (exclude alone matches nothing)',
  });
export type Topic = z.output<typeof TopicSchema>;

export const TopicFileSchema = z.strictObject({ topics: z.array(TopicSchema) });

/** A topic as loaded from a file. */
export interface LoadedTopic extends Topic {
  /** The file it came from. */
  file: string;
}

export type LoadedTopics =
  | {
      ok: true;
      topics: LoadedTopic[];
      /** The topic files read, in load order. */
      files: string[];
      /** Digest of the files' paths and contents: equal digests mean nothing changed. */
      digest: string;
    }
  | { ok: false; issues: FileIssue[] };

const TOPIC_FILE = /\.ya?ml$/i;

/**
 * Loads topic files; a directory stands for its `*.yaml` and `*.yml` files in name order. Every
 * file is checked and every issue returned, so one run of `rules lint` shows all mistakes. Topic
 * ids must be unique across all the files.
 */
export function loadTopicFiles(paths: readonly string[]): LoadedTopics {
  const unreadable: FileIssue[] = [];
  const sources: TopicSource[] = [];
  for (const file of expandTopicPaths(paths)) {
    if (typeof file !== 'string') {
      unreadable.push(file);
      continue;
    }
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      unreadable.push({ file, line: 1, col: 1, path: [], message: `cannot read: ${(err as Error).message}` });
    }
  }
  const checked = checkTopicSources(sources);
  if (unreadable.length === 0) return checked;
  return { ok: false, issues: [...unreadable, ...(checked.ok ? [] : checked.issues)] };
}

/** A topic file's text, read from disk or not saved yet. */
export interface TopicSource {
  file: string;
  text: string;
}

/**
 * What loadTopicFiles does once the files are read, for texts that need not be on disk (an edit
 * being typed in the console). A topic id defined twice is reported at its later definition, so a
 * caller checking one file against the others puts that file last. `parse` lets such a caller
 * remember the files that did not change (parsing takes about a millisecond per topic).
 */
export function checkTopicSources(sources: readonly TopicSource[], parse: typeof parseTopicFile = parseTopicFile): LoadedTopics {
  const issues: FileIssue[] = [];
  const topics: LoadedTopic[] = [];
  const firstSeen = new Map<string, { locator: Locator; index: number }>();
  const hash = createHash('sha256');
  for (const { file, text } of sources) {
    hash.update(file).update('\0').update(text).update('\0');
    const parsed = parse(text, file);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    const locator = new Locator(text, file);
    parsed.topics.forEach((topic, index) => {
      const first = firstSeen.get(topic.id);
      if (first === undefined) firstSeen.set(topic.id, { locator, index });
      else {
        const at = first.locator.issue(['topics', first.index, 'id'], '');
        issues.push(locator.issue(['topics', index, 'id'], `duplicate topic id "${topic.id}" (first defined at ${at.file}:${at.line}:${at.col})`));
      }
      topics.push({ ...topic, file });
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, topics, files: sources.map((s) => s.file), digest: hash.digest('hex') };
}

/** The keywords the tokenizer should never cut in two: every topic's region, subject and event words. */
export function topicKeywords(topics: readonly Topic[]): string[] {
  return [...new Set(topics.flatMap((t) => [...(t.region ?? []), ...(t.subject ?? []), ...(t.event ?? [])]))];
}

/**
 * Parses one topic file's text: YAML and schema, then expressions and keywords. Expressions are
 * checked even when other topics of the file fail the schema, so one lint run shows every mistake;
 * issues come in file order.
 */
export function parseTopicFile(text: string, file: string): { ok: true; topics: Topic[] } | { ok: false; issues: FileIssue[] } {
  const parsed = parseYaml(text, file, TopicFileSchema);
  let checked: Array<{ index: number; topic: Topic }>;
  if (parsed.ok) checked = parsed.value.topics.map((topic, index) => ({ index, topic }));
  else {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) return parsed;
    const items: unknown = (doc.toJS() as { topics?: unknown } | null)?.topics;
    checked = (Array.isArray(items) ? items : []).flatMap((item, index) => {
      const one = TopicSchema.safeParse(item);
      return one.success ? [{ index, topic: one.data }] : [];
    });
  }
  const locator = new Locator(text, file);
  const issues = [
    ...(parsed.ok ? [] : parsed.issues),
    ...checked.flatMap(({ index, topic }) => checkTopic(topic).map((p) => locator.issue(['topics', index, ...p.path], p.message, p.offset))),
  ];
  if (issues.length > 0) return { ok: false, issues: issues.sort((a, b) => a.line - b.line || a.col - b.col) };
  if (!parsed.ok) return parsed;
  return { ok: true, topics: parsed.value.topics };
}

export interface TopicProblem {
  /** Key path inside the topic. */
  path: KeyPath;
  message: string;
  /** For `expr`: where in the expression. */
  offset?: number;
}

/** What the schema cannot see: expression syntax, and keywords that normalise to nothing. */
export function checkTopic(topic: Topic): TopicProblem[] {
  const problems: TopicProblem[] = [];
  for (const group of [...GROUPS, 'exclude'] as const) {
    topic[group]?.forEach((keyword, j) => {
      if (normalizeKeyword(keyword) === '') problems.push({ path: [group, j], message: `keyword ${JSON.stringify(keyword)} is empty once normalised` });
    });
  }
  if (topic.expr !== undefined) {
    const parsed = parseExpr(topic.expr);
    if (!parsed.ok) problems.push({ path: ['expr'], message: parsed.error.message, offset: parsed.error.offset });
    else {
      for (const term of exprTerms(parsed.expr)) {
        if (normalizeKeyword(term.keyword) === '') {
          problems.push({ path: ['expr'], message: `keyword ${JSON.stringify(term.keyword)} is empty once normalised`, offset: term.start });
        }
      }
    }
  }
  return problems;
}

/** Files in order, with a directory's topic files in name order, or an issue for an empty directory. */
export function expandTopicPaths(paths: readonly string[]): Array<string | FileIssue> {
  return paths.flatMap((path): Array<string | FileIssue> => {
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // Reported when the file is read.
    }
    if (!isDirectory) return [path];
    const inside = readdirSync(path).filter((name) => TOPIC_FILE.test(name)).sort();
    if (inside.length === 0) return [{ file: path, line: 1, col: 1, path: [], message: 'directory holds no topic files (*.yaml, *.yml)' }];
    return inside.map((name) => join(path, name));
  });
}

/**
 * Finds where a key path, and an offset inside a string value, sit in the YAML source. Parsed
 * only when an issue needs placing: valid files never pay for it.
 */
class Locator {
  #doc: ReturnType<typeof parseDocument> | undefined;
  readonly #lines = new LineCounter();

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  issue(path: KeyPath, message: string, offset?: number): FileIssue {
    this.#doc ??= parseDocument(this.text, { lineCounter: this.#lines });
    const node = this.#doc.getIn(path, true) as YamlNode | undefined;
    const start = node?.range?.[0] ?? 0;
    const at = offset !== undefined && isScalar(node) ? scalarOffset(this.text, node, offset) : start;
    const pos = this.#lines.linePos(at);
    return { file: this.file, line: pos.line, col: pos.col, path, message };
  }
}

/**
 * The source offset of character `offset` of a string scalar's value. The value's characters appear
 * in the source in order, separated by what YAML strips: quotes, escapes, indentation, folded line
 * breaks, a block scalar's header. So the value is walked against the source, skipping source
 * characters until the next value character; a character the source spells differently (an escape
 * like \u4e2d) is given up on after a few characters and its position estimated.
 */
function scalarOffset(text: string, node: Scalar, offset: number): number {
  const value = String(node.value);
  const [start, end] = node.range ?? [0, text.length];
  let at = start;
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
    const header = text.indexOf('\n', start);
    at = header < 0 ? start : header + 1;
  } else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
    at = start + 1;
  }
  const LOOKAHEAD = 12;
  for (let i = 0; i < Math.min(offset, value.length); i++) {
    const found = text.indexOf(value[i] as string, at);
    at = found >= 0 && found < end && found - at <= LOOKAHEAD ? found + 1 : at + 1;
  }
  const next = text.indexOf(value[offset] ?? '', at);
  return next >= 0 && next < end && next - at <= LOOKAHEAD ? next : Math.min(at, end);
}
