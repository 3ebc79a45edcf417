import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ShaobingError } from '../../core/errors';
import { projectPath } from '../../core/paths';
import { createTokenizer, type Token, type Tokenizer } from '../tokenizer';
import { type FeatureSink, type PreparedText, prepareParts, sentenceFeatures, SUMS_STRIDE, type TextPart, WordTable } from './features';
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
  score(text: string, tokens?: readonly Token[]): SentimentResult;
  /**
   * Sentiment toward a target: only the sentences containing the spans (the topic's hits) and
   * their neighbours count, so a negative article about someone else is not negative about us.
   * The neighbours are read only when the hit sentences are neutral on their own ("X 发布了新款。
   * 用户纷纷吐槽电池太差。"), so they can never outvote a hit sentence that takes a side.
   * No span inside the text: neutral.
   */
  scoreAround(text: string, spans: readonly Span[], tokens?: readonly Token[]): SentimentResult;
  /**
   * Reads a text given in parts as if they were joined by line breaks (a title, then the body),
   * without joining them, to score it as a whole and around any number of targets (spans are
   * offsets into the joined text): each sentence's features are extracted once, and only for
   * the sentences some call reads.
   */
  read(parts: readonly SentimentPart[]): ReadText;
}

export interface SentimentPart {
  text: string;
  /** The part's tokens if it was cut already; else the analyzer cuts it. */
  tokens?: readonly Token[] | undefined;
  /** Whether the text is known to be its own Simplified form (see normalize's isSimplified), which saves converting it again. */
  simplified?: boolean | undefined;
}

/** A text read by SentimentAnalyzer.read. */
export interface ReadText {
  score(): SentimentResult;
  scoreAround(spans: readonly Span[]): SentimentResult;
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
  const scoring: Scoring = { bias: model.bias, words, sink: new MarginSink(model.quantized, model.scale, words), neutralBand, contextSentences, contextWeight };

  const read = (parts: readonly SentimentPart[]): ReadText =>
    new Reading(
      scoring,
      parts.map(({ text, tokens, simplified }) => ({ text, tokens: tokens ?? cut(text), simplified })),
    );

  return {
    read,
    score: (text, tokens) => read([{ text, tokens }]).score(),
    scoreAround: (text, spans, tokens) => read([{ text, tokens }]).scoreAround(spans),
  };
}

/** What every text an analyzer reads shares. */
interface Scoring {
  bias: number;
  words: WordTable;
  sink: MarginSink;
  neutralBand: number;
  contextSentences: number;
  contextWeight: number;
}

// Nothing to read (empty text, no sentence near the target) is neutral, not the training prior.
const NOTHING: SentimentResult = { score: 0, label: 'neutral' };

/** A text read once, scored as a whole and around targets: one object per text rather than a set of closures. */
class Reading implements ReadText {
  #prepared: PreparedText;
  /**
   * Each sentence's dot product of weights and features and sum of squared feature values,
   * worked out when a call first reads the sentence (dot NaN until then). A margin over any set
   * of sentences is a sum of these, so the rules stage, which scores a document once per matching
   * topic (six topics an article at 10,000 topics), extracts each sentence's features once, and
   * only the sentences some topic's hits are near. (Arrays rather than typed arrays: those larger
   * than 64 bytes are allocated outside the heap, which costs more than they save here.)
   */
  readonly #dots: number[];
  readonly #squares: number[];

  constructor(
    private readonly scoring: Scoring,
    private readonly parts: readonly TextPart[],
  ) {
    this.#prepared = prepareParts(parts, scoring.words);
    this.#dots = filled(this.#prepared.sentenceEnds.length, Number.NaN);
    this.#squares = filled(this.#dots.length, 0);
  }

  score(): SentimentResult {
    const m = this.#margin();
    return m === undefined ? NOTHING : this.#result(this.scoring.bias + m);
  }

  scoreAround(spans: readonly Span[]): SentimentResult {
    const { bias, neutralBand, contextSentences, contextWeight } = this.scoring;
    const stops = this.#prepared.sentenceStops;
    const count = stops.length;
    const hit = filled(count, 0);
    for (const span of spans) {
      // The first sentence ending after the span starts, then on while they start before it ends.
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((stops[mid] as number) > span.start) hi = mid;
        else lo = mid + 1;
      }
      for (let s = lo; s < count && (s === 0 ? 0 : (stops[s - 1] as number)) < span.end; s++) hit[s] = 1;
    }
    const near = filled(count, 0);
    for (let s = 0; s < count; s++) {
      if (hit[s] === 0) continue;
      for (let t = Math.max(0, s - contextSentences); t <= Math.min(count - 1, s + contextSentences); t++) if (hit[t] === 0) near[t] = 1;
    }
    const own = this.#margin(hit);
    const ownTotal = bias + (own ?? 0);
    const ownSaysLittle = own === undefined || Math.abs(Math.tanh(ownTotal / 2)) < neutralBand;
    const context = ownSaysLittle && contextSentences > 0 ? this.#margin(near) : undefined;
    if (own === undefined && context === undefined) return NOTHING;
    return this.#result(ownTotal + contextWeight * (context ?? 0));
  }

  /** dot(weights, features) / norm(features) over the sentences whose `chosen` entry is set (all when undefined), or undefined if they hold no feature. */
  #margin(chosen?: readonly number[]): number | undefined {
    const { words, sink } = this.scoring;
    const dots = this.#dots;
    const squares = this.#squares;
    let dot = 0;
    let sum = 0;
    for (let s = 0; s < dots.length; s++) {
      if (chosen && chosen[s] === 0) continue;
      if (Number.isNaN(dots[s])) {
        // Another text read since may have made the word table start again: the same tokens give the same sentences.
        if (this.#prepared.generation !== words.generation) this.#prepared = prepareParts(this.parts, words);
        sink.squares = 0;
        sink.shapeOffset = 2 * this.#prepared.shape;
        sentenceFeatures(this.#prepared, s, sink);
        dots[s] = sink.finish();
        squares[s] = sink.squares;
      }
      dot += dots[s] as number;
      sum += squares[s] as number;
    }
    return sum === 0 ? undefined : dot / Math.sqrt(sum);
  }

  #result(total: number): SentimentResult {
    const score = Math.tanh(total / 2);
    return { score, label: Math.abs(score) < this.scoring.neutralBand ? 'neutral' : score > 0 ? 'positive' : 'negative' };
  }
}

/**
 * Adds up a sentence's dot product with the model's weights and its squared feature values.
 * Features are only collected while the sentence is walked, and the weights read afterwards in one
 * tight loop (`finish`): the weight table (2 MB) is mostly out of cache once jieba has run, and
 * reads that depend on nothing but a buffered index can all be in flight at once, where reading
 * each weight as its feature comes waits for one cache miss after another.
 */
class MarginSink implements FeatureSink {
  squares = 0;
  /** Where the current text's shape starts in a word's WordTable.sums record. */
  shapeOffset = 0;
  /** How many times a word-level feature counts: twice with the shape view. */
  readonly #copies: number;
  /** Buckets in `weights` and their values, then places in the table's `sums` and theirs, of the features collected so far. */
  #buckets = new Int32Array(256);
  #values = new Float64Array(256);
  #count = 0;
  #slots = new Int32Array(256);
  #slotValues = new Float64Array(256);
  #slotCount = 0;

  constructor(
    /** The model's weights as stored (see LoadedModel.quantized): the table read at random is then 2 MB rather than 4. */
    private readonly quantized: Int16Array,
    private readonly scale: number,
    private readonly table: WordTable,
  ) {
    this.#copies = table.config.shapeView ? 2 : 1;
  }

  // feature, word and inner are kept small, growing elsewhere, so that they can be inlined where
  // sentenceFeatures calls them.
  feature(index: number, value: number): void {
    if (this.#count === this.#buckets.length) this.#growBuckets();
    this.#buckets[this.#count] = index;
    this.#values[this.#count++] = value;
    this.squares += value * value;
  }

  word(id: number, value: number): void {
    this.#sum(id * SUMS_STRIDE + this.shapeOffset, value);
    this.squares += this.#copies * value * value;
  }

  inner(id: number, value: number): void {
    this.#sum(id * SUMS_STRIDE + this.shapeOffset + 1, value);
    this.squares += this.table.innerCount(id) * this.#copies * value * value;
  }

  #sum(slot: number, value: number): void {
    if (this.#slotCount === this.#slots.length) this.#growSlots();
    this.#slots[this.#slotCount] = slot;
    this.#slotValues[this.#slotCount++] = value;
  }

  #growBuckets(): void {
    [this.#buckets, this.#values] = grow(this.#buckets, this.#values);
  }

  #growSlots(): void {
    [this.#slots, this.#slotValues] = grow(this.#slots, this.#slotValues);
  }

  /** The dot product of what was collected since the last call. */
  finish(): number {
    const { quantized, scale } = this;
    const sums = this.table.sums as Float64Array;
    const buckets = this.#buckets;
    const values = this.#values;
    const slots = this.#slots;
    const slotValues = this.#slotValues;
    let dot = 0;
    // Dequantised as loadModel does: the same float32 weight, so the same score.
    for (let k = 0, n = this.#count; k < n; k++) dot += Math.fround((quantized[buckets[k] as number] as number) * scale) * (values[k] as number);
    for (let k = 0, n = this.#slotCount; k < n; k++) dot += (sums[slots[k] as number] as number) * (slotValues[k] as number);
    this.#count = 0;
    this.#slotCount = 0;
    return dot;
  }
}

/** `count` times `value`, pushed: `new Array(n).fill()` goes through the runtime, which costs more than the few numbers. */
function filled(count: number, value: number): number[] {
  const array: number[] = [];
  for (let i = 0; i < count; i++) array.push(value);
  return array;
}

/** Twice the room, the contents kept. */
function grow(indices: Int32Array<ArrayBuffer>, values: Float64Array<ArrayBuffer>): [Int32Array<ArrayBuffer>, Float64Array<ArrayBuffer>] {
  const moreIndices = new Int32Array(2 * indices.length);
  const moreValues = new Float64Array(2 * values.length);
  moreIndices.set(indices);
  moreValues.set(values);
  return [moreIndices, moreValues];
}
