import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ShaobingError } from './errors';

/**
 * Every YAML file Shaobing reads (shaobing.yaml, topic files, the duty roster) goes through here,
 * so that every mistake is reported the same way: `file:line:col: key.path: message`.
 */

export type KeyPath = ReadonlyArray<string | number>;

export interface FileIssue {
  /** The file, or `env NAME` when the value came from an environment override. */
  file: string;
  line: number;
  col: number;
  path: KeyPath;
  message: string;
}

export function formatKeyPath(path: KeyPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

export function formatIssue(issue: FileIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${formatKeyPath(issue.path)}: ${issue.message}`;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: FileIssue[] };

export interface ParseYamlOptions {
  /** Environment used for `${NAME}` substitution and overrides; default none. */
  env?: NodeJS.ProcessEnv;
  /**
   * Prefix of variables that override keys, e.g. `SHAOBING__` makes `SHAOBING__STORE__ELASTICSEARCH__NODE`
   * set `store.elasticsearch.node`. Values are read as YAML, so `[a, b]` and `3` keep their types.
   */
  overridePrefix?: string;
}

interface Located {
  doc: Document;
  lines: LineCounter;
  file: string;
  /** Paths whose value came from an environment variable, to point issues at the variable instead. */
  fromEnv: Map<string, string>;
}

const SUBSTITUTION = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Parses YAML text and validates it with a zod schema; never throws for bad input. */
export function parseYaml<S extends z.ZodType>(text: string, file: string, schema: S, options: ParseYamlOptions = {}): Parsed<z.output<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const located: Located = { doc, lines, file, fromEnv: new Map() };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: [], message: e.message.split('\n')[0] ?? e.message };
      }),
    };
  }
  const env = options.env ?? {};
  const issues: FileIssue[] = [];
  substituteEnv(located, env, issues);
  if (options.overridePrefix) applyOverrides(located, env, options.overridePrefix, issues);
  if (issues.length > 0) return { ok: false, issues };

  const result = schema.safeParse(dropEmptyKeys(doc.toJS({ maxAliasCount: 100 })) ?? {});
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: result.error.issues.flatMap((i) => zodIssueToFileIssues(located, i)) };
}

/** Reads and validates a YAML file; throws SB_CONFIG_NOT_FOUND or SB_CONFIG_INVALID with every issue. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, options: ParseYamlOptions = {}): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShaobingError('SB_CONFIG_NOT_FOUND', `${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  const parsed = parseYaml(text, file, schema, options);
  if (!parsed.ok) throw new YamlValidationError(parsed.issues);
  return parsed.value;
}

export class YamlValidationError extends ShaobingError {
  readonly issues: FileIssue[];
  constructor(issues: FileIssue[]) {
    super('SB_CONFIG_INVALID', issues.map(formatIssue).join('\n'));
    this.name = 'YamlValidationError';
    this.issues = issues;
  }
}

function zodIssueToFileIssues(located: Located, issue: z.core.$ZodIssue): FileIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => locate(located, [...path, key], `unknown key "${key}"`, true));
  }
  const missing = issue.code === 'invalid_type' && located.doc.getIn(path, true) === undefined;
  const message = missing ? `missing required value (${issue.expected})` : issue.message;
  return [locate(located, path, message, false)];
}

/** Points at the deepest node of `path` that exists: the key itself for unknown keys, else the value. */
function locate(located: Located, path: KeyPath, message: string, atKey: boolean): FileIssue {
  for (let depth = path.length; depth > 0; depth--) {
    const envName = located.fromEnv.get(formatKeyPath(path.slice(0, depth)));
    if (envName) return { file: `env ${envName}`, line: 1, col: 1, path, message };
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const offset = atKey && depth === path.length ? keyOffset(located.doc, prefix) : valueOffset(located.doc, prefix);
    if (offset !== undefined) {
      const pos = located.lines.linePos(offset);
      return { file: located.file, line: pos.line, col: pos.col, path, message };
    }
  }
  return { file: located.file, line: 1, col: 1, path, message };
}

function valueOffset(doc: Document, path: KeyPath): number | undefined {
  const node = path.length === 0 ? doc.contents : (doc.getIn(path, true) as YamlNode | undefined);
  return node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined;
}

function keyOffset(doc: Document, path: KeyPath): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

function substituteEnv(located: Located, env: NodeJS.ProcessEnv, issues: FileIssue[]): void {
  const visit = (node: unknown, path: Array<string | number>): void => {
    if (isMap(node)) {
      for (const pair of node.items) if (isScalar(pair.key)) visit(pair.value, [...path, String(pair.key.value)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      node.value = node.value.replace(SUBSTITUTION, (whole, name: string) => {
        const value = env[name];
        if (value === undefined) {
          issues.push(locate(located, path, `environment variable ${name} is not set (used as ${whole})`, false));
          return whole;
        }
        return value;
      });
    }
  };
  visit(located.doc.contents, []);
}

function applyOverrides(located: Located, env: NodeJS.ProcessEnv, prefix: string, issues: FileIssue[]): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || raw === undefined) continue;
    const path = name.slice(prefix.length).split('__').map((segment) => segment.toLowerCase());
    if (path.some((segment) => segment === '')) {
      issues.push({ file: `env ${name}`, line: 1, col: 1, path, message: 'malformed override name (empty key between "__")' });
      continue;
    }
    const value = parseDocument(raw);
    if (value.errors.length > 0) {
      issues.push({ file: `env ${name}`, line: 1, col: 1, path, message: `value is not valid YAML: ${value.errors[0]?.message}` });
      continue;
    }
    if (located.doc.contents === null) located.doc.contents = located.doc.createNode({});
    located.doc.setIn(path, located.doc.createNode(value.toJS()));
    located.fromEnv.set(formatKeyPath(path), name);
  }
}

/** `store:` with every line under it commented out is YAML null; people mean "nothing here", so it counts as absent. */
function dropEmptyKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropEmptyKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropEmptyKeys(v);
  return out;
}
