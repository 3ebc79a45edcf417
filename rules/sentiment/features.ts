import { toSimplified } from '../normalize';
import { isEmoticon, type Token } from '../tokenizer';
import type { Lexicon } from './lexicon';

/**
 * Turns a tokenized text into hashed, weighted features for a linear model. Training and scoring
 * both go through prepareText and sentenceFeatures, so the model always sees features made the
 * same way.
 *
 * Features: jieba words, word bigrams, character 1–3-grams, and the class of each Weibo emoticon.
 * The sentiment rules act through feature values, so the learned word weights compose with them:
 * - negation flips the sign of the words in its scope ("不喜欢" counts 喜欢 negatively),
 * - a degree adverb multiplies the next word ("非常好" counts 好 twice over),
 * - a contrast conjunction weights the rest of its sentence up and what came before down
 *   ("虽然贵，但是好吃" leans on 好吃).
 */

/** How features are made; stored in the model file, because weights only fit the features they were trained on. */
export interface FeatureConfig {
  /** log2 of the number of hash buckets. */
  hashBits: number;
  /** How many words after a negator it reaches (degree adverbs not counted), at most to the end of the clause. */
  negationScope: number;
  /** Multiplier for the words of a sentence before a contrast conjunction. */
  beforeContrast: number;
  /**
   * Whether each word's own feature and the character n-grams inside it also count a second time,
   * in a bucket kept for the text's shape (textShape: a social-media post, or plain text such as a
   * review or an article), so a word can learn a different weight in each while what the two
   * share is learned from both. Bigrams and n-grams across words stay shared.
   */
  shapeView: boolean;
}

/**
 * Receives the features of a sentence. A word's own feature and the n-grams inside it come as one
 * call each, so a scorer can use weight sums worked out once per distinct word (WordTable) while
 * training still sees every feature.
 */
export interface FeatureSink {
  /** One feature occurrence: its hash bucket and value. */
  feature(index: number, value: number): void;
  /** The feature of the word itself (bucket `word.index`, and its shape copy with `shapeView`). */
  word(word: WordFeatures, value: number): void;
  /** Each character n-gram inside the word (buckets `word.inner`, and their shape copies with `shapeView`), all with this value. */
  inner(word: WordFeatures, value: number): void;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

function fnvUnit(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, FNV_PRIME);
}

/** One seed per feature family, so "好" the word and "好" the character land in different buckets. */
const SEED = {
  plain: fnv(FNV_OFFSET, 'p\u0000'),
  post: fnv(FNV_OFFSET, 's\u0000'),
  word: fnv(FNV_OFFSET, 'w\u0000'),
  bigram: fnv(FNV_OFFSET, 'b\u0000'),
  char1: fnv(FNV_OFFSET, 'c\u0000'),
  char2: fnv(FNV_OFFSET, 'd\u0000'),
  char3: fnv(FNV_OFFSET, 't\u0000'),
  emoticon: fnv(FNV_OFFSET, 'e\u0000'),
};

export type TextShape = 0 | 1;
export const PLAIN_TEXT: TextShape = 0;
export const SOCIAL_POST: TextShape = 1;

/**
 * Social-media markup: a Weibo emoticon, a #topic#, an @mention, a repost chain, a link, the
 * zero-width spaces Weibo pads posts with, an emoji. Nearly every Weibo post in the training data
 * has one and almost no review does, so the shape tells them apart without knowing the source.
 */
const POST_MARKUP = /\[[^[\]\s]{1,8}\]|#[^#\s]{1,40}#|@[\w\u4e00-\u9fff-]{1,30}|\/\/@|https?:\/\/|\u200b|[\u{1F300}-\u{1FAFF}\u2600-\u27BF]/u;

export function textShape(text: string): TextShape {
  return POST_MARKUP.test(text) ? SOCIAL_POST : PLAIN_TEXT;
}

/** The bucket of a word-level feature's copy for one text shape. */
export function shapeBucket(index: number, shape: TextShape, mask: number): number {
  return fnvUnit(shape === SOCIAL_POST ? SEED.post : SEED.plain, index) & mask;
}

/** Ends a sentence: contrast does not reach past it. */
const SENTENCE_END = /^[。！？!?；;…]+$|^\.{2,}$/;
/** Ends a clause: negation and degree do not reach past it. */
const CLAUSE_END = /^[\p{P}\p{S}\s]+$/u;

const FULL_WIDTH = /[\uff01-\uff5e]/;
const FULL_WIDTH_ALL = /[\uff01-\uff5e]/g;

/** Full-width ASCII to half-width, and lower case. */
function foldWidthAndCase(word: string): string {
  const lower = word.toLowerCase();
  if (!FULL_WIDTH.test(lower)) return lower;
  return lower.replace(FULL_WIDTH_ALL, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

// What a word does to the words around it (WordFeatures.role).
const PLAIN = 0;
/** Punctuation, symbols: ends the reach of negation and degree. */
const CLAUSE = 1;
const NEGATOR = 2;
const DEGREE = 3;
/** A Weibo emoticon: a word of its own, no characters. */
const EMOTICON = 4;

/** What the features need of one distinct word; made once per word by a WordTable. */
export interface WordFeatures {
  /** The table's key: the Simplified form of the token before width and case folding… */
  readonly key: string;
  readonly keyHash: number;
  /** …and the word as the features see it: Simplified, width- and case-folded. */
  readonly text: string;
  readonly role: number;
  /** For a degree adverb, its multiplier for the next word. */
  readonly degree: number;
  /** For a contrast conjunction, the weight of the rest of its sentence; else 0. */
  readonly contrast: number;
  readonly endsSentence: boolean;
  /** Bucket of the word's own feature. */
  readonly index: number;
  /** Bucket of a known emoticon's class, else -1. */
  readonly emoticonIndex: number;
  /** Hash state of a word bigram that starts with this word, before the next word goes in. */
  readonly bigramLeft: number;
  /** Buckets of the character 1–3-grams that lie inside the word (those that reach into a neighbour depend on it). */
  readonly inner: readonly number[];
  readonly innerCount: number;
  /** Its place in the table's `sums`. */
  readonly id: number;
}

/** Distinct words kept; past this the table starts again (50 news-broadcast articles hold 7,000). */
const TABLE_WORDS = 50_000;
/** Numbers per word in WordTable.sums: [own, inner] for plain text, then for a social-media post. */
export const SUMS_STRIDE = 4;

/**
 * Word → WordFeatures, filled as words are met. A scorer passes its model's weights, so the
 * n-grams inside a word cost one multiplication per occurrence instead of a hash and a weight
 * lookup each. Keys are the Simplified form of a token before width and case folding.
 *
 * Open addressing over an array rather than a Map: looked up for every token, as a Map it took a
 * tenth of the rules stage's time; measured alone, a lookup takes ~40 ns this way against ~58 ns.
 */
export class WordTable {
  /**
   * With weights: SUMS_STRIDE numbers per word id, for each text shape the weight of the word's own
   * feature and the summed weights of its inner n-grams (shape copies included with `shapeView`).
   */
  readonly sums: Float64Array | undefined;
  /** Slots, at most half full so probe runs stay short; doubled as words come, up to TABLE_WORDS. */
  #slots: Array<WordFeatures | undefined> = new Array<WordFeatures | undefined>(1024).fill(undefined);
  #size = 0;
  readonly #mask: number;

  constructor(
    private readonly lexicon: Lexicon,
    readonly config: FeatureConfig,
    private readonly weights?: Float32Array,
  ) {
    this.#mask = (1 << config.hashBits) - 1;
    this.sums = weights && new Float64Array(TABLE_WORDS * SUMS_STRIDE);
  }

  get(key: string): WordFeatures {
    const hash = fnv(FNV_OFFSET, key);
    const slots = this.#slots;
    const last = slots.length - 1;
    for (let i = hash & last; ; i = (i + 1) & last) {
      const word = slots[i];
      if (word === undefined) break;
      if (word.keyHash === hash && word.key === key) return word;
    }
    if (this.#size >= TABLE_WORDS) this.#resize(slots.length, false);
    else if (2 * (this.#size + 1) > slots.length) this.#resize(2 * slots.length, true);
    const word = this.#make(key, hash, this.#size++);
    this.#insert(word);
    return word;
  }

  #insert(word: WordFeatures): void {
    const slots = this.#slots;
    const last = slots.length - 1;
    let i = word.keyHash & last;
    while (slots[i] !== undefined) i = (i + 1) & last;
    slots[i] = word;
  }

  /** A new, empty array of `size` slots, with the words moved over if `keep`. */
  #resize(size: number, keep: boolean): void {
    const old = this.#slots;
    this.#slots = new Array<WordFeatures | undefined>(size).fill(undefined);
    if (!keep) {
      this.#size = 0;
      return;
    }
    for (const word of old) if (word !== undefined) this.#insert(word);
  }

  #make(key: string, keyHash: number, id: number): WordFeatures {
    const { lexicon, weights, sums } = this;
    const mask = this.#mask;
    const text = foldWidthAndCase(key);
    const emoticon = lexicon.emoticons.get(text);
    const role =
      emoticon !== undefined || isEmoticon(text)
        ? EMOTICON
        : CLAUSE_END.test(text)
          ? CLAUSE
          : lexicon.negators.has(text)
            ? NEGATOR
            : lexicon.degree.has(text)
              ? DEGREE
              : PLAIN;
    const inner: number[] = [];
    if (role !== EMOTICON) {
      for (let k = 0; k < text.length; k++) {
        const u = text.charCodeAt(k);
        inner.push(fnvUnit(SEED.char1, u) & mask);
        if (k >= 1) inner.push(fnvUnit(fnvUnit(SEED.char2, text.charCodeAt(k - 1)), u) & mask);
        if (k >= 2) inner.push(fnvUnit(fnvUnit(fnvUnit(SEED.char3, text.charCodeAt(k - 2)), text.charCodeAt(k - 1)), u) & mask);
      }
    }
    const index = fnv(SEED.word, text) & mask;
    if (weights && sums) {
      for (const shape of [PLAIN_TEXT, SOCIAL_POST]) {
        const weight = (i: number): number => (weights[i] as number) + (this.config.shapeView ? (weights[shapeBucket(i, shape, mask)] as number) : 0);
        let innerWeight = 0;
        for (const i of inner) innerWeight += weight(i);
        sums[id * SUMS_STRIDE + 2 * shape] = weight(index);
        sums[id * SUMS_STRIDE + 2 * shape + 1] = innerWeight;
      }
    }
    return {
      key,
      keyHash,
      text,
      role,
      degree: lexicon.degree.get(text) ?? 1,
      contrast: lexicon.contrast.get(text) ?? 0,
      // On the unfolded form, as sentences have always been cut.
      endsSentence: SENTENCE_END.test(key),
      index,
      emoticonIndex: emoticon === undefined ? -1 : fnvUnit(SEED.emoticon, emoticon + 1) & mask,
      bigramLeft: fnv(fnv(SEED.bigram, text), '\u0001'),
      inner,
      innerCount: inner.length,
      id,
    };
  }
}

/** What feature extraction needs of a text, made once however many times the text is scored. */
export interface PreparedText {
  shape: TextShape;
  /** Each token's word. */
  words: WordFeatures[];
  /** Where each sentence ends, as an index into `words` (exclusive); sentence s starts where s − 1 ends. */
  sentenceEnds: number[];
}

/** Whether text[from, to) holds a line break. */
function hasLineBreak(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) return true;
  return false;
}

/**
 * Looks the tokens up in `table` and cuts the text into sentences; the sentence-ending
 * punctuation belongs to the sentence, and so does a line break after it.
 */
export function prepareText(text: string, tokens: readonly Token[], table: WordTable): PreparedText {
  const simplified = toSimplified(text);
  // Mostly nothing was converted: then each token's word is its own key, with no slicing.
  const unchanged = simplified === text;
  const words: WordFeatures[] = [];
  const sentenceEnds: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const word = table.get(unchanged ? token.word : simplified.slice(token.start, token.end));
    words.push(word);
    // A line break is never a token (whitespace), so look at the gap to the next token as well.
    const next = tokens[i + 1];
    if (word.endsSentence || (next !== undefined && next.start > token.end && hasLineBreak(text, token.end, next.start))) sentenceEnds.push(i + 1);
  }
  if (tokens.length > (sentenceEnds.at(-1) ?? 0)) sentenceEnds.push(tokens.length);
  return { shape: table.config.shapeView ? textShape(text) : PLAIN_TEXT, words, sentenceEnds };
}

/** Reused for the contrast weights of a sentence. */
let contrastScratch = new Float64Array(256);

/** Emits the features of sentence `s` of a prepared text into `sink`. */
export function sentenceFeatures(prepared: PreparedText, s: number, config: FeatureConfig, sink: FeatureSink): void {
  const mask = (1 << config.hashBits) - 1;
  const { words, sentenceEnds } = prepared;
  const from = s === 0 ? 0 : (sentenceEnds[s - 1] as number);
  const to = sentenceEnds[s] as number;

  // Contrast: every conjunction scales what follows it and discounts what precedes it.
  let weights: Float64Array | undefined;
  for (let i = from; i < to; i++) {
    const c = (words[i] as WordFeatures).contrast;
    if (c === 0) continue;
    if (!weights) {
      if (contrastScratch.length < to - from) contrastScratch = new Float64Array(2 * (to - from));
      weights = contrastScratch.fill(1, 0, to - from);
    }
    for (let j = from; j < i; j++) weights[j - from]! *= config.beforeContrast;
    for (let j = i + 1; j < to; j++) weights[j - from]! *= c;
  }

  let negated = false;
  let negationLeft = 0;
  let degree = 1;
  let prev: WordFeatures | undefined;
  let c1 = -1; // previous character code unit, -1 at a boundary
  let c2 = -1; // the one before it
  for (let i = from; i < to; i++) {
    const word = words[i] as WordFeatures;
    const w = weights ? (weights[i - from] as number) : 1;
    if (prev !== undefined) sink.feature(fnv(prev.bigramLeft, word.text) & mask, w);
    prev = word;

    if (word.role === EMOTICON) {
      sink.word(word, w);
      if (word.emoticonIndex >= 0) sink.feature(word.emoticonIndex, w);
      c1 = c2 = -1;
      continue;
    }

    const text = word.text;
    const length = text.length;
    if (length > 0) {
      // The n-grams that reach back into the previous word; those inside this one come with it.
      const u0 = text.charCodeAt(0);
      if (c1 >= 0) {
        sink.feature(fnvUnit(fnvUnit(SEED.char2, c1), u0) & mask, w);
        if (c2 >= 0) sink.feature(fnvUnit(fnvUnit(fnvUnit(SEED.char3, c2), c1), u0) & mask, w);
        if (length > 1) sink.feature(fnvUnit(fnvUnit(fnvUnit(SEED.char3, c1), u0), text.charCodeAt(1)) & mask, w);
      }
      sink.inner(word, w);
      c2 = length > 1 ? text.charCodeAt(length - 2) : c1;
      c1 = text.charCodeAt(length - 1);
    }

    switch (word.role) {
      case CLAUSE:
        sink.word(word, w);
        negated = false;
        negationLeft = 0;
        degree = 1;
        break;
      case NEGATOR:
        sink.word(word, w);
        negated = !negated;
        negationLeft = config.negationScope;
        break;
      case DEGREE:
        sink.word(word, w);
        degree *= word.degree;
        break;
      default:
        sink.word(word, w * degree * (negated ? -1 : 1));
        degree = 1;
        if (negationLeft > 0 && --negationLeft === 0) negated = false;
    }
  }
}
