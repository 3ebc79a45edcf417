import { z } from 'zod';
import { AuthorTier } from '../core/records';
import type { LevelPolicy } from './level';
import { compileTopics, type Matcher, type TermHit } from './matcher';
import type { SentimentAnalyzer } from './sentiment';
import { type AnalyzeOptions, createRuleStage, type StageOutput } from './stage';
import type { Tokenizer } from './tokenizer';
import { GROUPS, type Topic, topicKeywords } from './topics';

/**
 * Trying topics on one document, for `shaobing rules test` and the console's "test on text": the
 * pipeline's rules stage, fed as the pipeline feeds it (tokens cut by a tokenizer that knows the
 * topics' keywords), so what an analyst sees is what the pipeline would do. For a topic that did
 * not match at all, it also tells which of its keyword groups occur and which excluded word vetoed it.
 */

const Count = z.number().int().min(0);

/** A document to try topics on. Unknown keys are dropped, not refused, so stored Documents fit as they are. */
export const TrialDocument = z.object({
  title: z.string().default(''),
  text: z.string(),
  source: z.string().optional(),
  author_tier: AuthorTier.optional(),
  /** Figures the level policy reads; the pipeline knows the cluster's, a trial is told them. */
  metrics: z
    .object({
      reposts: Count.optional(),
      comments: Count.optional(),
      cluster_size: Count.optional(),
      growth_per_hour: z.number().min(0).optional(),
    })
    .optional(),
});
export type TrialDocument = z.output<typeof TrialDocument>;

export interface RuleTrialOptions {
  sentiment: SentimentAnalyzer;
  /**
   * Cuts title and text with every tried topic's keywords pinned, as the pipeline does, so the
   * sentiment reads the same tokens. Without it the sentiment analyzer cuts the texts itself.
   */
  tokenizer?: Tokenizer;
  /** Default DEFAULT_LEVEL_POLICY. */
  levelPolicy?: LevelPolicy;
}

/** One keyword group of a topic and what of it occurs in the document. */
export interface GroupFinding {
  /** region, subject, event, or expr (the expression as a whole). */
  group: string;
  found: boolean;
  hits: TermHit[];
}

/** Why a topic did not match a document. */
export interface TopicMiss {
  topic: Topic;
  /** Every group must be found for the topic to match. */
  groups: GroupFinding[];
  /** Excluded words that occur: any one of them vetoes the topic. */
  excluded: TermHit[];
}

export interface RuleTrial {
  /** The rules stage on one document, with the context its metrics give. */
  run(matcher: Matcher, doc: TrialDocument, options?: AnalyzeOptions): StageOutput;
  /** For a topic `run` did not return: which of its groups occur and which exclusions apply. */
  explainMiss(topic: Topic, doc: TrialDocument): TopicMiss;
}

export function createRuleTrial(options: RuleTrialOptions): RuleTrial {
  const stage = createRuleStage({ sentiment: options.sentiment, ...(options.levelPolicy ? { levelPolicy: options.levelPolicy } : {}) });
  const { tokenizer } = options;
  const pinned = new WeakSet<Matcher>();
  return {
    run(matcher, doc, analyzeOptions) {
      let tokens: { title: ReturnType<Tokenizer['cut']>; text: ReturnType<Tokenizer['cut']> } | undefined;
      if (tokenizer) {
        if (!pinned.has(matcher)) {
          tokenizer.addWords(topicKeywords(matcher.topics));
          pinned.add(matcher);
        }
        tokens = { title: tokenizer.cut(doc.title), text: tokenizer.cut(doc.text) };
      }
      const context = { clusterSize: doc.metrics?.cluster_size, growthPerHour: doc.metrics?.growth_per_hour, tokens };
      return stage.analyze(matcher, doc, context, analyzeOptions);
    },

    explainMiss(topic, doc) {
      // Each group becomes a topic of its own, so one matcher pass says which of them occur.
      const probe = (id: string, fields: Partial<Topic>): Topic => ({
        id,
        name: id,
        threshold: 0,
        alert_on: 'any',
        level: topic.level,
        policy: topic.policy,
        ...fields,
      });
      const probes: Topic[] = [
        ...GROUPS.flatMap((group) => (topic[group] ? [probe(group, { [group]: topic[group] })] : [])),
        ...(topic.expr !== undefined ? [probe('expr', { expr: topic.expr })] : []),
        ...(topic.exclude ? [probe('exclude', { region: topic.exclude })] : []),
      ];
      const found = new Map(compileTopics(probes).match(doc).map((m) => [m.topic.id, m.hits]));
      return {
        topic,
        groups: probes.filter((p) => p.id !== 'exclude').map((p) => ({ group: p.id, found: found.has(p.id), hits: found.get(p.id) ?? [] })),
        excluded: (found.get('exclude') ?? []).map((hit) => ({ ...hit, group: 'exclude' })),
      };
    },
  };
}
