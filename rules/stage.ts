import type { AuthorTier, Level } from '../core/records';
import type { z } from 'zod';
import { DEFAULT_LEVEL_POLICY, decideLevel, findSeverityWords, type LevelPolicy, sourceTier } from './level';
import type { Matcher, TermHit } from './matcher';
import { isSimplified, normalize } from './normalize';
import { type Relevance, type RelevanceOptions, scoreRelevance } from './relevance';
import type { SentimentAnalyzer, SentimentResult } from './sentiment';
import type { Token } from './tokenizer';
import type { Topic } from './topics';

/**
 * The rules stage for one document: match every topic, score relevance, drop what falls under a
 * topic's threshold, then take the sentiment of the matched passages and decide the warning level.
 * Pure apart from the sentiment analyzer; the matcher is passed per call so a hot-reloaded rule set
 * takes effect on the next document.
 */

type AuthorTierName = z.output<typeof AuthorTier>;

/** The parts of a Document the stage reads. */
export interface StageDocument {
  title: string;
  text: string;
  source?: string;
  author_tier?: AuthorTierName;
  metrics?: { reposts?: number; comments?: number };
}

/** What the pipeline already knows about the document when the stage runs. */
export interface StageContext {
  /** Documents in the near-duplicate cluster, this one included. */
  clusterSize?: number;
  /** New documents in the cluster per hour. */
  growthPerHour?: number;
  /** The title's and the text's tokens, if the pipeline cut them already; else the sentiment analyzer cuts what it reads. */
  tokens?: { title: readonly Token[]; text: readonly Token[] };
}

export interface TopicResult {
  topic: Topic;
  /** Relevance, 0..1; at least the topic's threshold unless `belowThreshold` was asked for. */
  score: number;
  /** Whether the relevance reached the topic's threshold. */
  passed: boolean;
  relevance: Relevance;
  sentiment: SentimentResult;
  level: Level;
  /** Why this level, as sentences for the alert. */
  levelReasons: string[];
  /** Whether the match should alert: always for `alert_on: any`, else when the sentiment is negative. */
  alert: boolean;
  hits: TermHit[];
  /** The level policy's severity words found in the document, for deciding a cluster's level later. */
  severityWords: string[];
  /** The document's author tier, as given or found from its source name; likewise. */
  authorTier?: AuthorTierName;
}

export interface RuleStageOptions {
  sentiment: SentimentAnalyzer;
  /** Default DEFAULT_LEVEL_POLICY. */
  levelPolicy?: LevelPolicy;
  /** Default DEFAULT_RELEVANCE. */
  relevance?: RelevanceOptions;
}

export interface StageOutput {
  /** The whole document's sentiment (title and text), for every document, matched or not. */
  sentiment: SentimentResult;
  /** The topics matched at or above their threshold. */
  topics: TopicResult[];
}

export interface AnalyzeOptions {
  /**
   * Also return the topics whose keywords matched but whose relevance fell under the threshold,
   * with `passed: false`: for an analyst trying rules, never for alerting. Default false.
   */
  belowThreshold?: boolean;
}

export interface RuleStage {
  analyze(matcher: Matcher, doc: StageDocument, context?: StageContext, options?: AnalyzeOptions): StageOutput;
}

export function createRuleStage(options: RuleStageOptions): RuleStage {
  const policy = options.levelPolicy ?? DEFAULT_LEVEL_POLICY;
  return {
    analyze(matcher, doc, context = {}, { belowThreshold = false } = {}) {
      const title = normalize(doc.title);
      const text = normalize(doc.text);
      const matches = matcher
        .matchNormalized(title, text)
        .map((match) => ({ match, relevance: scoreRelevance(match, options.relevance) }))
        .filter(({ match, relevance }) => belowThreshold || relevance.score >= match.topic.threshold);

      // The analyzer reads the title, a line break, then the text. Scoring the whole document first
      // prepares it once; each topic's target-aware score below reuses it.
      const read = options.sentiment.read([
        { text: doc.title, tokens: context.tokens?.title, simplified: isSimplified(title) },
        { text: doc.text, tokens: context.tokens?.text, simplified: isSimplified(text) },
      ]);
      const sentiment = read.score();
      if (matches.length === 0) return { sentiment, topics: [] };

      const severityWords = findSeverityWords(policy, title.text, text.text);
      const textOffset = doc.title.length + 1;
      const authorTier = doc.author_tier ?? sourceTier(doc.source, policy);
      const topics = matches.map(({ match, relevance }): TopicResult => {
        const spans = match.hits.map((h) => (h.field === 'title' ? h : { start: h.start + textOffset, end: h.end + textOffset }));
        const sentiment = read.scoreAround(spans);
        const decision = decideLevel(
          {
            base: match.topic.level,
            sentiment: sentiment.score,
            severityWords,
            authorTier,
            source: doc.source,
            reposts: doc.metrics?.reposts,
            comments: doc.metrics?.comments,
            clusterSize: context.clusterSize,
            growthPerHour: context.growthPerHour,
          },
          policy,
        );
        return {
          topic: match.topic,
          score: relevance.score,
          passed: relevance.score >= match.topic.threshold,
          relevance,
          sentiment,
          level: decision.level,
          levelReasons: decision.reasons,
          alert: match.topic.alert_on === 'any' || sentiment.label === 'negative',
          hits: match.hits,
          severityWords,
          ...(authorTier ? { authorTier } : {}),
        };
      });
      return { sentiment, topics };
    },
  };
}
