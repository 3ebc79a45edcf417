import type { Subscription } from '../bus/types';
import { stopOnce } from '../core/lifecycle';
import type { Role, RoleContext, RoleHealth } from '../daemon/roles';
import { decideLevel } from '../rules/level';
import { RuleSet } from '../rules/rule-set';
import { createSentimentAnalyzer } from '../rules/sentiment';
import { createRuleStage } from '../rules/stage';
import { createTokenizer } from '../rules/tokenizer';
import { formatIssue } from '../core/yaml-file';
import { sweepOutboxes } from './alerting';
import { RecentMembers } from './cluster';
import { createPipelineHandler } from './handler';
import { createPipelineMetrics } from './metrics';

/** The keywords of every topic go into the tokenizer's dictionary, so a keyword is never cut in two. */
function topicKeywords(rules: RuleSet): string[] {
  const topics = rules.current?.topics ?? [];
  return [...new Set(topics.flatMap((t) => [...(t.region ?? []), ...(t.subject ?? []), ...(t.event ?? [])]))];
}

export function createPipelineRole(context: RoleContext): Role {
  const { config, bus, store, log } = context;
  const settings = config.pipeline;
  const metrics = createPipelineMetrics(context.metrics);
  const rules = new RuleSet({ paths: config.rules.paths, logger: log });
  const tokenizer = createTokenizer(config.rules.tokenizer);
  const sentiment = createSentimentAnalyzer({ tokenizer });
  const stage = createRuleStage({ sentiment, levelPolicy: config.rules.level_policy });
  let subscription: Subscription | undefined;
  let problem: string | undefined;

  rules.on('reloaded', (snapshot) => {
    tokenizer.addWords(topicKeywords(rules));
    problem = undefined;
    log.info({ topics: snapshot.topics.length, version: snapshot.version }, 'topic rules loaded');
  });
  rules.on('rejected', (issues, kept) => {
    problem = `topic files rejected (${kept ? `keeping version ${kept.version}` : 'no rules in force'}): ${issues.map(formatIssue).join('; ')}`;
    log.error({ issues: issues.map(formatIssue) }, 'topic files rejected; keeping the last good rules');
  });

  return {
    name: 'pipeline',

    async start() {
      if (config.rules.paths.length > 0) rules.reload();
      if (config.rules.watch) rules.watch();
      const published = await sweepOutboxes(store, bus);
      if (published > 0) log.info({ published }, 'published alert events left unpublished by an earlier run');
      subscription = await bus.subscribe({
        group: settings.group,
        topic: 'documents',
        maxBatchSize: settings.batch_size,
        onRetry: (err, attempt, delayMs) => {
          metrics.retries.inc();
          log.warn({ err, attempt, delayMs }, 'pipeline batch failed; retrying');
        },
        handler: createPipelineHandler({
          store,
          bus,
          log,
          metrics,
          rules: () => rules.current,
          analyze: { tokenizer, stage },
          recent: new RecentMembers(),
          cluster: { windowHours: settings.cluster.window_hours, minSimilarity: settings.cluster.min_similarity },
          alerting: {
            decide: (inputs) => decideLevel({ ...inputs, severityWords: [...inputs.severityWords] }, config.rules.level_policy),
            reopenAfterDocs: settings.reopen_after_docs,
          },
          maxMessageBytes: settings.max_message_bytes,
        }),
      });
      subscription.done.catch((err: unknown) => {
        problem = `the pipeline stopped: ${(err as Error).message}`;
        log.fatal({ err }, 'pipeline subscription ended on a non-retriable error');
      });
    },

    health(): RoleHealth {
      if (!subscription) return { ready: false, detail: 'starting' };
      if (problem?.startsWith('the pipeline stopped')) return { ready: false, detail: problem };
      return problem ? { ready: true, detail: problem } : { ready: true };
    },

    stop: stopOnce(async () => {
      rules.close();
      await subscription?.stop();
    }),
  };
}
