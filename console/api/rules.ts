import { z } from 'zod';
import { compileTopics, type Matcher, type TermHit } from '../../rules/matcher';
import { createSentimentAnalyzer } from '../../rules/sentiment';
import type { TopicResult } from '../../rules/stage';
import { createTokenizer } from '../../rules/tokenizer';
import { type LoadedTopic, type Topic, topicKeywords } from '../../rules/topics';
import { createRuleTrial, type RuleTrial, TrialDocument } from '../../rules/trial';
import type { ConsoleApi, ConsoleRole } from '../context';
import { ConsoleError, parseInput, userOf } from '../request';
import { BacktestJobs } from '../rules/backtest';
import { TopicEditor, type SaveOutcome } from '../rules/editor';
import { contentVersion, displayPath, fileId, TopicFiles } from '../rules/files';
import { type RuleVersion, RulesHistory, versionDiff } from '../rules/history';

/**
 * Topic rules in the console (docs/console-api.md, "Rules"): read the files, validate an edit as it
 * is typed, try rules on a pasted article, backtest an edit against stored documents, save with
 * history and roll back. Everyone signed in may read, test and backtest; analysts and admins save.
 * Files are named by the opaque ids the list gives; nothing a client sends is used as a path.
 */

const EDITORS: readonly ConsoleRole[] = ['admin', 'analyst'];

/** Longest topic file text accepted, in characters (the HTTP body limit applies too). */
const MAX_TEXT = 1_000_000;
const Text = z.string().max(MAX_TEXT);
const Message = z.string().max(500).default('');
const FileParams = z.strictObject({ file: z.string().min(1) });
const VersionParams = z.strictObject({ file: z.string().min(1), n: z.coerce.number().int().min(1) });
const JobParams = z.strictObject({ id: z.string().min(1) });

const Validate = z.strictObject({
  text: Text,
  /** The file the text is for, so its topic ids are checked against the other files only. */
  file: z.string().min(1).optional(),
});

const TestOnText = z.strictObject({
  ...TrialDocument.shape,
  title: z.string().max(10_000).default(''),
  text: z.string().max(MAX_TEXT),
  /** An unsaved file text to try instead of the running rules. */
  rules: Text.optional(),
  /** With `rules`: the file it replaces (the other files' running topics are tried too). */
  file: z.string().min(1).optional(),
  /** A topic to report even if it did not match. */
  topic: z.string().min(1).optional(),
});

const Save = z.strictObject({ text: Text, base_version: z.string().min(1), message: Message });
const Rollback = z.strictObject({ base_version: z.string().min(1), message: Message });

export const rulesApi: ConsoleApi = async (app, services) => {
  const { config } = services;
  const files = new TopicFiles(config.rules.paths);
  const history = new RulesHistory(services.paths.rulesHistoryDir, services.now);
  const editor = new TopicEditor({ files, history, rules: services.rules, audit: services.audit });

  // The pipeline's tokenizer and sentiment model, loaded on first use (about a second) and kept;
  // the running topics' keywords are pinned as the pipeline pins them.
  let trial: RuleTrial | undefined;
  let unpin: (() => void) | undefined;
  const trialOf = (): RuleTrial => {
    if (trial) return trial;
    const tokenizer = createTokenizer(config.rules.tokenizer);
    const pin = () => tokenizer.addWords(topicKeywords(services.rules.current?.topics ?? []));
    pin();
    unpin = services.rules.on('reloaded', pin);
    trial = createRuleTrial({ tokenizer, sentiment: createSentimentAnalyzer({ tokenizer }), levelPolicy: config.rules.level_policy });
    return trial;
  };
  const Backtest = z.strictObject({ file: z.string().min(1), text: Text, days: z.number().int().min(1).max(config.console.backtest.max_days) });
  const jobs = new BacktestJobs({ store: services.store, trial: trialOf, log: services.log, now: services.now });
  app.addHook('onClose', async () => {
    jobs.close();
    unpin?.();
  });

  const versionJson = (v: RuleVersion) => ({ n: v.n, author: v.author, at: v.at, message: v.message, version: v.digest, path: displayPath(v.path) });
  const savedJson = (outcome: SaveOutcome) => ({
    version: outcome.version,
    history: versionJson(outcome.history),
    unchanged: outcome.unchanged,
    in_force: { ...outcome.in_force, issues: files.issuesJson(outcome.in_force.issues) },
  });

  app.get('/rules', async () => {
    const { files: listed, loaded } = files.load();
    const current = services.rules.current;
    return {
      rules: current ? { version: current.version, loaded_at: current.loadedAt.toISOString(), topics: current.topics.length } : null,
      /** Whether the files on disk are exactly what runs. */
      in_sync: loaded.ok && current?.digest === loaded.digest,
      issues: loaded.ok ? [] : files.issuesJson(loaded.issues),
      files: listed.map((f) => ({
        id: f.id,
        path: displayPath(f.path),
        version: f.text === undefined ? null : contentVersion(f.text),
        topics: f.text === undefined ? [] : files.topics(f.text, f),
      })),
    };
  });

  app.get('/rules/files/:file', async (request) => {
    const file = files.resolve(parseInput(FileParams, request.params, 'params').file);
    const { text, version } = files.read(file);
    return { id: file.id, path: displayPath(file.path), text, version };
  });

  app.post('/rules/validate', async (request) => {
    const body = parseInput(Validate, request.body, 'body');
    const checked = files.check(body.text, body.file === undefined ? undefined : files.resolve(body.file));
    return { ok: checked.ok, issues: files.issuesJson(checked.issues), topics: checked.topics };
  });

  app.post('/rules/test', async (request) => {
    const body = parseInput(TestOnText, request.body, 'body');
    let matcher: Matcher;
    let source: { rules: 'running'; version: number } | { rules: 'unsaved'; file: string | null };
    if (body.rules !== undefined) {
      const target = body.file === undefined ? undefined : files.resolve(body.file);
      const checked = files.check(body.rules, target);
      if (!checked.ok) throw files.invalid(checked.issues, 'the rules to test');
      const others = target ? (services.rules.current?.topics ?? []).filter((t) => t.file !== target.path) : [];
      matcher = compileTopics([...others, ...checked.topics.map((t): LoadedTopic => ({ ...t, file: target?.path ?? '' }))]);
      source = { rules: 'unsaved', file: target?.id ?? null };
    } else {
      const current = services.rules.current;
      if (!current) throw new ConsoleError('SB_CONFIG_INVALID', 'no topic rules are running: the files have the issues GET /api/rules lists', { status: 409 });
      matcher = current.matcher;
      source = { rules: 'running', version: current.version };
    }
    const named = body.topic === undefined ? undefined : matcher.topics.find((t) => t.id === body.topic);
    if (body.topic !== undefined && !named) throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', `body.topic: no topic "${body.topic}" in the rules tested`);
    const output = trialOf().run(matcher, body, { belowThreshold: named !== undefined });
    // Only the topics that passed, as `shaobing rules test` shows, and the named one however it fared.
    const results = output.topics.filter((r) => r.passed || r.topic === named);
    const miss = named && !results.some((r) => r.topic === named) ? trialOf().explainMiss(named, body) : undefined;
    return {
      ...source,
      sentiment: output.sentiment,
      topics: results.map(resultJson),
      ...(miss
        ? { missed: { topic: topicJson(miss.topic), groups: miss.groups.map((g) => ({ ...g, hits: g.hits.map(hitJson) })), excluded: miss.excluded.map(hitJson) } }
        : {}),
    };
  });

  app.post('/rules/backtest', async (request, reply) => {
    const body = parseInput(Backtest, request.body, 'body');
    const file = files.resolve(body.file);
    const checked = files.check(body.text, file);
    if (!checked.ok) throw files.invalid(checked.issues, 'the rules to backtest');
    const to = services.now();
    const job = jobs.start({
      file: file.id,
      before: (services.rules.current?.topics ?? []).filter((t) => t.file === file.path),
      after: checked.topics,
      from: new Date(to.getTime() - body.days * 86_400_000),
      to,
      maxDocuments: config.console.backtest.max_documents,
      user: userOf(request).name,
    });
    return reply.code(202).send(job);
  });

  app.get('/rules/backtest/:id', async (request) => {
    const job = jobs.get(parseInput(JobParams, request.params, 'params').id);
    if (!job) throw new ConsoleError('SB_CONSOLE_NOT_FOUND', 'no such backtest (finished ones are kept for an hour)');
    return job;
  });

  app.delete('/rules/backtest/:id', async (request) => {
    const job = jobs.cancel(parseInput(JobParams, request.params, 'params').id);
    if (!job) throw new ConsoleError('SB_CONSOLE_NOT_FOUND', 'no such backtest');
    return job;
  });

  app.put('/rules/files/:file', { config: { roles: EDITORS } }, async (request) => {
    const file = files.resolve(parseInput(FileParams, request.params, 'params').file);
    const body = parseInput(Save, request.body, 'body');
    const outcome = await editor.save({ file, text: body.text, baseVersion: body.base_version, message: body.message, author: userOf(request).name, ip: request.ip });
    return savedJson(outcome);
  });

  app.get('/rules/files/:file/history', async (request) => {
    const file = files.resolve(parseInput(FileParams, request.params, 'params').file);
    const versions = editor.history(file);
    return { file: file.id, path: displayPath(file.path), version: versions.at(-1)?.digest ?? null, versions: versions.reverse().map(versionJson) };
  });

  app.get('/rules/files/:file/history/:n', async (request) => {
    const params = parseInput(VersionParams, request.params, 'params');
    const file = files.resolve(params.file);
    // A change made on disk becomes the newest version before any version is shown.
    editor.history(file);
    const found = history.get(file.id, params.n);
    if (!found) throw new ConsoleError('SB_CONSOLE_NOT_FOUND', `no version ${params.n} of ${displayPath(file.path)}`);
    return {
      ...versionJson(found.version),
      text: found.text,
      previous: found.previous?.version.n ?? null,
      diff: versionDiff(displayPath(file.path), found.previous ? { n: found.previous.version.n, text: found.previous.text } : { text: '' }, { n: found.version.n, text: found.text }),
    };
  });

  app.post('/rules/files/:file/history/:n/rollback', { config: { roles: EDITORS } }, async (request) => {
    const params = parseInput(VersionParams, request.params, 'params');
    const file = files.resolve(params.file);
    const body = parseInput(Rollback, request.body, 'body');
    const found = history.get(file.id, params.n);
    if (!found) throw new ConsoleError('SB_CONSOLE_NOT_FOUND', `no version ${params.n} of ${displayPath(file.path)}`);
    const outcome = await editor.save({
      file,
      text: found.text,
      baseVersion: body.base_version,
      message: body.message,
      author: userOf(request).name,
      ip: request.ip,
      rollbackOf: params.n,
    });
    return savedJson(outcome);
  });
};

function topicJson(topic: Topic & { file?: string }) {
  const { file, ...rest } = topic;
  return { ...rest, ...(file ? { file: fileId(file) } : {}) };
}

function hitJson(hit: TermHit) {
  return { field: hit.field, start: hit.start, end: hit.end, keyword: hit.term, group: hit.group };
}

function resultJson(result: TopicResult) {
  const { relevance } = result;
  return {
    topic: topicJson(result.topic),
    passed: result.passed,
    score: result.score,
    threshold: result.topic.threshold,
    relevance: { evidence: relevance.evidence, coverage: relevance.coverage, proximity: relevance.proximity ?? null, terms: relevance.terms, reasons: relevance.reasons },
    hits: result.hits.map(hitJson),
    sentiment: result.sentiment,
    level: result.level,
    level_reasons: result.levelReasons,
    alert: result.alert,
    severity_words: result.severityWords,
    ...(result.authorTier ? { author_tier: result.authorTier } : {}),
  };
}
