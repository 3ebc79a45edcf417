import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ShaobingError } from '../../core/errors';
import { createTokenizer, type Token, type Tokenizer } from '../tokenizer';
import { extractFeatures, prepareText } from './features';
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

const OptionsSchema = z.strictObject({
  /** Folder holding model.json, weights.bin.gz and the word lists. Default: the model shipped with Shaobing. */
  modelDir: z.string().min(1).optional(),
  /** Cuts texts passed without tokens. Default: a `node-rs-jieba` tokenizer, created on first use. */
  tokenizer: z.custom<Tokenizer>((value) => typeof value === 'object' && value !== null && 'cut' in value).optional(),
  /** A |score| below this is labelled neutral. Default 0.2 (P(positive) between 0.4 and 0.6). */
  neutralBand: z.number().min(0).max(1).default(0.2),
  /** scoreAround also reads this many sentences on each side of a sentence with a hit. Default 1. */
  contextSentences: z.number().int().min(0).default(1),
  /** How much those neighbouring sentences count, next to the hit sentences' 1, when they are read. Default 1. */
  contextWeight: z.number().min(0).max(1).default(1),
});

export type SentimentAnalyzerOptions = z.input<typeof OptionsSchema>;

/**
 * The shipped model sits beside this file in the sources; compiled code runs from
 * dist/rules/sentiment/, three levels below the package root, and tsc does not copy data files.
 */
function shippedModelDir(): string {
  const candidates = [join(__dirname, 'model'), resolve(__dirname, '../../../rules/sentiment/model')];
  const found = candidates.find((dir) => existsSync(join(dir, 'model.json')));
  if (found === undefined) {
    throw new ShaobingError('SB_CONFIG_NOT_FOUND', `the shipped sentiment model was not found (looked in ${candidates.join(', ')})`);
  }
  return found;
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

  /**
   * Per sentence of the last text scored: the dot product of weights and features, and the sum of
   * squared feature values. A margin over any set of sentences is then a sum of these, so the rules
   * stage, which scores one document once per matching topic (six topics an article at 10,000
   * topics), extracts each sentence's features once instead of once per topic.
   */
  let last: { text: string; tokens: readonly Token[]; sentences: Array<[number, number]>; dots: Float64Array; squares: Float64Array } | undefined;
  const prepare = (text: string, tokens: readonly Token[]) => {
    if (last?.tokens === tokens && last.text === text) return last;
    const prepared = prepareText(text, tokens);
    const dots = new Float64Array(prepared.sentences.length);
    const squares = new Float64Array(prepared.sentences.length);
    const { weights } = model;
    extractFeatures(prepared, lexicon, model.features, (index, value, sentence) => {
      dots[sentence] = (dots[sentence] as number) + (weights[index] as number) * value;
      squares[sentence] = (squares[sentence] as number) + value * value;
    });
    last = { text, tokens, sentences: prepared.sentences, dots, squares };
    return last;
  };

  /** dot(weights, features) / norm(features) for the chosen sentences, or undefined if they hold no feature. */
  const margin = (sums: { dots: Float64Array; squares: Float64Array }, includeSentence?: (index: number) => boolean): number | undefined => {
    let dot = 0;
    let squares = 0;
    for (let s = 0; s < sums.dots.length; s++) {
      if (includeSentence && !includeSentence(s)) continue;
      dot += sums.dots[s] as number;
      squares += sums.squares[s] as number;
    }
    return squares === 0 ? undefined : dot / Math.sqrt(squares);
  };

  const result = (total: number): SentimentResult => {
    const score = Math.tanh(total / 2);
    return { score, label: Math.abs(score) < neutralBand ? 'neutral' : score > 0 ? 'positive' : 'negative' };
  };
  // Nothing to read (empty text, no sentence near the target) is neutral, not the training prior.
  const NOTHING: SentimentResult = { score: 0, label: 'neutral' };

  return {
    score(text, tokens) {
      const m = margin(prepare(text, tokens ?? cut(text)));
      return m === undefined ? NOTHING : result(model.bias + m);
    },

    scoreAround(text, spans, tokens) {
      const cutTokens = tokens ?? cut(text);
      const prepared = prepare(text, cutTokens);
      const { sentences } = prepared;
      const hit = new Set<number>();
      sentences.forEach(([from, to], s) => {
        // A sentence owns the text from the end of the previous one to its own end.
        const start = s === 0 ? 0 : (cutTokens[from - 1] as Token).end;
        const end = s === sentences.length - 1 ? text.length : (cutTokens[to - 1] as Token).end;
        if (spans.some((span) => span.start < end && span.end > start)) hit.add(s);
      });
      const near = (s: number): boolean => !hit.has(s) && [...hit].some((h) => Math.abs(h - s) <= contextSentences);
      const own = margin(prepared, (s) => hit.has(s));
      const ownTotal = model.bias + (own ?? 0);
      const ownSaysLittle = own === undefined || Math.abs(Math.tanh(ownTotal / 2)) < neutralBand;
      const context = ownSaysLittle && contextSentences > 0 ? margin(prepared, near) : undefined;
      if (own === undefined && context === undefined) return NOTHING;
      return result(ownTotal + contextWeight * (context ?? 0));
    },
  };
}
