import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { z } from 'zod';
import { AuthorTier } from '../core/records';
import { formatIssue } from '../core/yaml-file';
import { DEFAULT_LEVEL_POLICY, type LevelPolicy } from './level';
import { compileTopics } from './matcher';
import { createSentimentAnalyzer, type SentimentAnalyzer } from './sentiment';
import type { TopicResult } from './stage';
import { createTokenizer } from './tokenizer';
import { loadTopicFiles } from './topics';
import { createRuleTrial, type RuleTrialOptions, TrialDocument } from './trial';

/**
 * `shaobing rules lint` and `shaobing rules test`. Other tools parse their output, so it is fixed:
 * lint prints one `file:line:col: key.path: message` line per issue on stdout and exits 1 (0 and
 * no output when the file is valid); test --json prints one JSON line per input document.
 */

export interface RulesCommandOptions {
  /** Default: process.stdout. */
  stdout?: (text: string) => void;
  /** Default: process.stderr. */
  stderr?: (text: string) => void;
  /** Receives each command's exit code; default sets process.exitCode. */
  setExitCode?: (code: number) => void;
  /**
   * Makes the sentiment analyzer for `rules test`, only when that command runs (the model takes time
   * to load). Default: the shipped model reading a jieba tokenizer's tokens, as the pipeline.
   */
  sentiment?: () => SentimentAnalyzer;
  /** Default DEFAULT_LEVEL_POLICY. */
  levelPolicy?: LevelPolicy;
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export function registerRulesCommands(program: Command, options: RulesCommandOptions = {}): Command {
  const io: CommandIo = {
    stdout: options.stdout ?? ((text) => process.stdout.write(text)),
    stderr: options.stderr ?? ((text) => process.stderr.write(text)),
  };
  const setExitCode = options.setExitCode ?? ((code) => (process.exitCode = code));
  const makeSentiment = options.sentiment;
  const rules = program.command('rules').description('check topic (专题) rule files and try them on documents');

  rules
    .command('lint')
    .argument('<file>', 'a topic file, or a directory of *.yaml topic files')
    .description('validate topic rules: YAML, keys, keyword expressions, unique ids')
    .addHelpText(
      'after',
      '\nPrints nothing and exits 0 when valid; otherwise prints one "file:line:col: key.path: message" line per issue on stdout and exits 1.',
    )
    .action((file: string) => setExitCode(lintTopics(file, io)));

  rules
    .command('test')
    .argument('<file>', 'a topic file, or a directory of *.yaml topic files')
    .requiredOption('--input <docs.jsonl>', 'documents, one JSON object per line')
    .option('--json', 'print one JSON line per document instead of a readable report')
    .description('run topic rules over sample documents and show matches, relevance, sentiment and level')
    .addHelpText(
      'after',
      `
Each input line is {"id", "title", "text"} plus, optionally, "source", "published_at", "author_tier"
(${AuthorTier.options.join('|')}) and "metrics" {"reposts", "comments", "cluster_size", "growth_per_hour"},
which feed the warning level. Other keys are ignored, so Document records can be used as they are.

With --json, each document gives one line:
  {"id":…,"matches":[{"topic","score","sentiment","level","hits":[{"term","field","start","end"}]}]}
hits' start/end are offsets into the original title or text ("field"). A line that is not a valid
document is reported on stderr with its line number and skipped; the exit code is then 1.`,
    )
    .action(async (file: string, flags: { input: string; json?: boolean }) =>
      setExitCode(
        await testTopics(
          file,
          flags.input,
          { json: flags.json === true, engine: makeSentiment ? () => ({ sentiment: makeSentiment() }) : pipelineEngine, levelPolicy: options.levelPolicy },
          io,
        ),
      ),
    );
  return rules;
}

/** `rules lint`: the exit code. */
export function lintTopics(file: string, io: CommandIo): number {
  const loaded = loadTopicFiles([file]);
  if (loaded.ok) {
    io.stderr(`${file}: ${loaded.topics.length} topic(s), valid\n`);
    return 0;
  }
  for (const issue of loaded.issues) io.stdout(`${formatIssue(issue)}\n`);
  return 1;
}

/** One input line of `rules test`; unknown keys are dropped, not refused. */
const TestDocument = TrialDocument.extend({
  id: z.union([z.string().min(1), z.number()]),
  published_at: z.string().optional(),
});

/** The tokenizer and sentiment analyzer as the pipeline makes them. */
function pipelineEngine(): Omit<RuleTrialOptions, 'levelPolicy'> {
  const tokenizer = createTokenizer();
  return { tokenizer, sentiment: createSentimentAnalyzer({ tokenizer }) };
}

export interface TestOptions {
  json: boolean;
  /** Made only once the topics are valid (the model takes time to load). */
  engine: () => Omit<RuleTrialOptions, 'levelPolicy'>;
  levelPolicy?: LevelPolicy;
}

/** `rules test`: the exit code. */
export async function testTopics(file: string, input: string, options: TestOptions, io: CommandIo): Promise<number> {
  const loaded = loadTopicFiles([file]);
  if (!loaded.ok) {
    for (const issue of loaded.issues) io.stderr(`${formatIssue(issue)}\n`);
    return 1;
  }
  const matcher = compileTopics(loaded.topics);
  const trial = createRuleTrial({ ...options.engine(), levelPolicy: options.levelPolicy ?? DEFAULT_LEVEL_POLICY });
  let failed = false;
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const doc = parseLine(line);
      if (!doc.ok) {
        io.stderr(`${input}:${lineNo}: ${doc.message}\n`);
        failed = true;
        continue;
      }
      const results = trial.run(matcher, doc.value).topics;
      io.stdout(options.json ? `${JSON.stringify({ id: doc.value.id, matches: results.map(toJson) })}\n` : report(doc.value.id, results));
    }
  } catch (err) {
    io.stderr(`${input}: cannot read: ${(err as Error).message}\n`);
    return 1;
  }
  return failed ? 1 : 0;
}

function parseLine(line: string): { ok: true; value: z.output<typeof TestDocument> } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { ok: false, message: `not valid JSON: ${(err as Error).message}` };
  }
  const parsed = TestDocument.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ') };
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

function toJson(result: TopicResult): object {
  return {
    topic: result.topic.id,
    score: round(result.score),
    sentiment: round(result.sentiment.score),
    level: result.level,
    hits: result.hits.map((h) => ({ term: h.term, field: h.field, start: h.start, end: h.end })),
  };
}

const LEVEL_NAMES = { 1: '一级', 2: '二级', 3: '三级' } as const;

function report(id: string | number, results: TopicResult[]): string {
  if (results.length === 0) return `${id}: no topic matched\n`;
  const lines = [`${id}: ${results.length} topic(s) matched`];
  for (const r of results) {
    lines.push(
      `  ${r.topic.id} ${r.topic.name}  relevance ${r.score.toFixed(2)}  sentiment ${r.sentiment.score.toFixed(2)} (${r.sentiment.label})  level ${r.level} ${LEVEL_NAMES[r.level]}${r.alert ? '  ALERT' : ''}`,
      `    hits: ${r.hits.map((h) => `${h.term}@${h.field}[${h.start},${h.end})`).join(' ')}`,
      ...r.relevance.reasons.map((reason) => `    relevance: ${reason}`),
      ...r.levelReasons.map((reason) => `    level: ${reason}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
