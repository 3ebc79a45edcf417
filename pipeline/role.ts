import type { BatchHandler, Subscription } from '../bus/types';
import { stopOnce } from '../core/lifecycle';
import type { Role, RoleContext, RoleHealth } from '../daemon/roles';
import { decideLevel } from '../rules/level';
import { RuleSet } from '../rules/rule-set';
import { createSentimentAnalyzer } from '../rules/sentiment';
import { createRuleStage } from '../rules/stage';
import { createTokenizer } from '../rules/tokenizer';
import { topicKeywords } from '../rules/topics';
import { formatIssue } from '../core/yaml-file';
import { sweepOutboxes } from './alerting';
import { RecentMembers } from './cluster';
import { createClusterLease } from './cluster-lease';
import { createPipelineHandler } from './handler';
import { createPipelineMetrics } from './metrics';

export function createPipelineRole(context: RoleContext): Role {
  const { config, bus, store, log } = context;
  const settings = config.pipeline;
  const metrics = createPipelineMetrics(context.metrics, () => bus.lag(settings.group, 'documents'));
  const rules = new RuleSet({ paths: config.rules.paths, logger: log });
  const tokenizer = createTokenizer(config.rules.tokenizer);
  const sentiment = createSentimentAnalyzer({ tokenizer });
  const stage = createRuleStage({ sentiment, levelPolicy: config.rules.level_policy });
  let subscription: Subscription | undefined;
  let problem: string | undefined;
  /** Set while batches fail and are retried (the store or Kafka down): not ready, and why. */
  let failing: { since: string; message: string } | undefined;

  rules.on('reloaded', (snapshot) => {
    tokenizer.addWords(topicKeywords(rules.current?.topics ?? []));
    problem = undefined;
    log.info({ topics: snapshot.topics.length, version: snapshot.version }, 'topic rules loaded');
  });
  rules.on('rejected', (issues, kept) => {
    problem = `topic files rejected (${kept ? `keeping version ${kept.version}` : 'no rules in force'}): ${issues.map(formatIssue).join('; ')}`;
    log.error({ issues: issues.map(formatIssue) }, 'topic files rejected; keeping the last good rules');
  });

  const succeeded = (handler: BatchHandler): BatchHandler => async (messages, context) => {
    await handler(messages, context);
    failing = undefined;
  };

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
        // One partition's analysis and alerting overlap another's clustering (which takes turns).
        concurrentPartitions: 4,
        onRetry: (err, attempt, delayMs) => {
          metrics.retries.inc();
          failing = { since: failing?.since ?? new Date().toISOString(), message: (err as Error).message };
          log.warn({ err, attempt, delayMs }, 'pipeline batch failed; retrying');
        },
        handler: succeeded(createPipelineHandler({
          store,
          bus,
          log,
          metrics,
          rules: () => rules.current,
          analyze: { tokenizer, stage },
          recent: new RecentMembers(),
          lease: createClusterLease(store, { name: `pipeline-clustering:${config.bus.topics.documents.name}` }),
          cluster: { windowHours: settings.cluster.window_hours, minSimilarity: settings.cluster.min_similarity },
          alerting: {
            decide: (inputs) => decideLevel({ ...inputs, severityWords: [...inputs.severityWords] }, config.rules.level_policy),
            reopenAfterDocs: settings.reopen_after_docs,
          },
          maxMessageBytes: settings.max_message_bytes,
        })),
      });
      subscription.done.catch((err: unknown) => {
        problem = `the pipeline stopped: ${(err as Error).message}`;
        log.fatal({ err }, 'pipeline subscription ended on a non-retriable error');
      });
    },

    health(): RoleHealth {
      if (!subscription) return { ready: false, detail: 'starting' };
      if (problem?.startsWith('the pipeline stopped')) return { ready: false, detail: problem };
      if (failing) return { ready: false, detail: `batches failing since ${failing.since}, retrying with backoff: ${failing.message}` };
      return problem ? { ready: true, detail: problem } : { ready: true };
    },

    stop: stopOnce(async () => {
      rules.close();
      await subscription?.stop();
    }),
  };
}
