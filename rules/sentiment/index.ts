import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ShaobingError } from '../../core/errors';
import { projectPath } from '../../core/paths';
import { createTokenizer, type Token, type Tokenizer } from '../tokenizer';
import { type FeatureConfig, type FeatureSink, prepareText, type PreparedText, sentenceFeatures, SUMS_STRIDE, type WordFeatures, WordTable } from './features';
import { loadLexicon } from './lexicon';
import { loadModel } from './model-file';

/**
 * Sentiment of Chinese posts and articles: a linear model over jieba words, word bigrams and
 * character n-grams whose feature values carry the negation, degree-adverb, contrast and emoticon
 * rules (features.ts), trained offline (train/train.ts) on the train splits of weibo2018,
 * ChnSentiCorp and NLPCC 2014. Accuracy and provenance: model/README.md.
 */

export type SentimentLabel = 'negative' | 'neutral' | 'positive';

export interface SentimentResult {
  /** From -1 (certainly negative) to 1 (certainly positive): 2·P(positive) − 1. */
  score: number;
  label: SentimentLabel;
}

export interface Span {
  start: number;
  end: number;
}

export interface SentimentAnalyzer {
  /** Sentiment of the whole text. Pass the tokens if the text was already cut, to save cutting it again. */
  score(text: string, tokens?: Token[]): SentimentResult;
  /**
   * Sentiment toward a target: only the sentences containing the spans (the topic's hits) and
   * their neighbours count, so a negative article about someone else is not negative about us.
   * The neighbours are read only when the hit sentences are neutral on their own ("X 发布了新款。
   * 用户纷纷吐槽电池太差。"), so they can never outvote a hit sentence that takes a side.
   * No span inside the text: neutral.
   */
  scoreAround(text: string, spans: Span[], tokens?: Token[]): SentimentResult;
}

/** The neutral band the pipeline labels with; the console's sentiment split uses the same cut. */
export const DEFAULT_NEUTRAL_BAND = 0.2;

const OptionsSchema = z.strictObject({
  /** Folder holding model.json, weights.bin.gz and the word lists. Default: the model shipped with Shaobing. */
  modelDir: z.string().min(1).optional(),
  /** Cuts texts passed without tokens. Default: a `node-rs-jieba` tokenizer, created on first use. */
  tokenizer: z.custom<Tokenizer>((value) => typeof value === 'object' && value !== null && 'cut' in value).optional(),
  /** A |score| below this is labelled neutral. Default 0.2 (P(positive) between 0.4 and 0.6). */
  neutralBand: z.number().min(0).max(1).default(DEFAULT_NEUTRAL_BAND),
  /** scoreAround also reads this many sentences on each side of a sentence with a hit. Default 1. */
  contextSentences: z.number().int().min(0).default(1),
  /** How much those neighbouring sentences count, next to the hit sentences' 1, when they are read. Default 1. */
  contextWeight: z.number().min(0).max(1).default(1),
});

export type SentimentAnalyzerOptions = z.input<typeof OptionsSchema>;

/** The model shipped with Shaobing (data files stay in the source tree; tsc does not copy them). */
function shippedModelDir(): string {
  const dir = projectPath('rules', 'sentiment', 'model');
  if (!existsSync(join(dir, 'model.json'))) throw new ShaobingError('SB_CONFIG_NOT_FOUND', `the shipped sentiment model is missing from ${dir}`);
  return dir;
}

export function createSentimentAnalyzer(options: SentimentAnalyzerOptions = {}): SentimentAnalyzer {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ShaobingError('SB_CONFIG_INVALID', `invalid sentiment analyzer options: ${z.prettifyError(parsed.error)}`);
  }
  const { neutralBand, contextSentences, contextWeight } = parsed.data;
  const dir = parsed.data.modelDir ?? shippedModelDir();
  const lexicon = loadLexicon(dir);
  const model = loadModel(dir);
  let tokenizer = parsed.data.tokenizer;
  const cut = (text: string): Token[] => (tokenizer ??= createTokenizer()).cut(text);

  const words = new WordTable(lexicon, model.features, model.weights);
  const sink = new MarginSink(model.weights, words.sums as Float64Array, model.features);

  /**
   * The last text scored, prepared once, with each sentence's dot product of weights and features
   * and sum of squared feature values, computed when a call first needs that sentence (NaN until
   * then). A margin over any set of sentences is a sum of these, so the rules stage, which scores a
   * document once per matching topic (six topics an article at 10,000 topics), extracts each
   * sentence's features once, and only the sentences some topic's hits are near.
   */
  let last:
    | { text: string; tokens: readonly Token[]; cutHere: boolean; prepared: PreparedText; dots: Float64Array; squares: Float64Array }
    | undefined;
  const prepare = (text: string, given: readonly Token[] | undefined) => {
    // Tokens cut here are the same for the same text; tokens passed in are the caller's to vary.
    if (last && last.text === text && (given === undefined ? last.cutHere : last.tokens === given)) return last;
    const tokens = given ?? cut(text);
    const prepared = prepareText(text, tokens, words);
    const count = prepared.sentenceEnds.length;
    last = { text, tokens, cutHere: given === undefined, prepared, dots: new Float64Array(count).fill(Number.NaN), squares: new Float64Array(count) };
    return last;
  };

  /** dot(weights, features) / norm(features) over the sentences whose `chosen` entry is set (all when undefined), or undefined if they hold no feature. */
  const margin = (text: ReturnType<typeof prepare>, chosen?: Uint8Array): number | undefined => {
    const { dots, squares } = text;
    let dot = 0;
    let sum = 0;
    for (let s = 0; s < dots.length; s++) {
      if (chosen && chosen[s] === 0) continue;
      if (Number.isNaN(dots[s])) {
        sink.dot = 0;
        sink.squares = 0;
        sink.shapeOffset = 2 * text.prepared.shape;
        sentenceFeatures(text.prepared, s, model.features, sink);
        dots[s] = sink.dot;
        squares[s] = sink.squares;
      }
      dot += dots[s] as number;
      sum += squares[s] as number;
    }
    return sum === 0 ? undefined : dot / Math.sqrt(sum);
  };

  const result = (total: number): SentimentResult => {
    const score = Math.tanh(total / 2);
    return { score, label: Math.abs(score) < neutralBand ? 'neutral' : score > 0 ? 'positive' : 'negative' };
  };
  // Nothing to read (empty text, no sentence near the target) is neutral, not the training prior.
  const NOTHING: SentimentResult = { score: 0, label: 'neutral' };

  return {
    score(text, tokens) {
      const m = margin(prepare(text, tokens));
      return m === undefined ? NOTHING : result(model.bias + m);
    },

    scoreAround(text, spans, tokens) {
      const prepared = prepare(text, tokens);
      const cutTokens = prepared.tokens;
      const { sentenceEnds } = prepared.prepared;
      const count = sentenceEnds.length;
      // A sentence owns the text from the end of the previous one to its own end.
      const ownEnd = (s: number): number => (s === count - 1 ? text.length : (cutTokens[(sentenceEnds[s] as number) - 1] as Token).end);
      const hit = new Uint8Array(count);
      for (const span of spans) {
        // The first sentence ending after the span starts, then on while they start before it ends.
        let lo = 0;
        let hi = count;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (ownEnd(mid) > span.start) hi = mid;
          else lo = mid + 1;
        }
        for (let s = lo; s < count && (s === 0 ? 0 : ownEnd(s - 1)) < span.end; s++) hit[s] = 1;
      }
      const near = new Uint8Array(count);
      for (let s = 0; s < count; s++) {
        if (hit[s] === 0) continue;
        for (let t = Math.max(0, s - contextSentences); t <= Math.min(count - 1, s + contextSentences); t++) if (hit[t] === 0) near[t] = 1;
      }
      const own = margin(prepared, hit);
      const ownTotal = model.bias + (own ?? 0);
      const ownSaysLittle = own === undefined || Math.abs(Math.tanh(ownTotal / 2)) < neutralBand;
      const context = ownSaysLittle && contextSentences > 0 ? margin(prepared, near) : undefined;
      if (own === undefined && context === undefined) return NOTHING;
      return result(ownTotal + contextWeight * (context ?? 0));
    },
  };
}

/** Adds up a sentence's dot product with the model's weights and its squared feature values. */
class MarginSink implements FeatureSink {
  dot = 0;
  squares = 0;
  /** Where the current text's shape starts in a word's WordTable.sums record. */
  shapeOffset = 0;
  /** How many times a word-level feature counts: twice with the shape view. */
  readonly #copies: number;

  constructor(
    private readonly weights: Float32Array,
    private readonly sums: Float64Array,
    features: FeatureConfig,
  ) {
    this.#copies = features.shapeView ? 2 : 1;
  }

  feature(index: number, value: number): void {
    this.dot += (this.weights[index] as number) * value;
    this.squares += value * value;
  }

  word(word: WordFeatures, value: number): void {
    this.dot += (this.sums[word.id * SUMS_STRIDE + this.shapeOffset] as number) * value;
    this.squares += this.#copies * value * value;
  }

  inner(word: WordFeatures, value: number): void {
    this.dot += (this.sums[word.id * SUMS_STRIDE + this.shapeOffset + 1] as number) * value;
    this.squares += word.innerCount * this.#copies * value * value;
  }
}
