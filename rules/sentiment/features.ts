import { toSimplified } from '../normalize';
import { isEmoticon, type Token } from '../tokenizer';
import type { Lexicon } from './lexicon';

/**
 * Turns a tokenized text into hashed, weighted features for a linear model. Training and scoring
 * both call this one function, so the model always sees features made the same way.
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
}

/** Receives each feature as it is made: bucket index and value. */
/** Receives each feature occurrence: its hashed index, its value, and the sentence it came from. */
export type FeatureSink = (index: number, value: number, sentence: number) => void;

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
  word: fnv(FNV_OFFSET, 'w\u0000'),
  bigram: fnv(FNV_OFFSET, 'b\u0000'),
  char1: fnv(FNV_OFFSET, 'c\u0000'),
  char2: fnv(FNV_OFFSET, 'd\u0000'),
  char3: fnv(FNV_OFFSET, 't\u0000'),
  emoticon: fnv(FNV_OFFSET, 'e\u0000'),
};

/** Ends a sentence: contrast does not reach past it. */
const SENTENCE_END = /^[。！？!?；;…]+$|^\.{2,}$/;
/** Ends a clause: negation and degree do not reach past it. */
const CLAUSE_END = /^[\p{P}\p{S}\s]+$/u;

/** Sentences as half-open token index ranges; the sentence-ending punctuation belongs to the sentence. */
export function sentenceRanges(tokens: readonly Token[], text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    // A line break is never a token (whitespace), so look at the gap to the next token as well.
    const breaksLine = next !== undefined && next.start > token.end && text.slice(token.end, next.start).includes('\n');
    if (SENTENCE_END.test(token.word) || breaksLine) {
      ranges.push([start, i + 1]);
      start = i + 1;
    }
  }
  if (start < tokens.length) ranges.push([start, tokens.length]);
  return ranges;
}

const FULL_WIDTH = /[\uff01-\uff5e]/;
const FULL_WIDTH_ALL = /[\uff01-\uff5e]/g;

/** Full-width ASCII to half-width, and lower case. */
function foldWidthAndCase(word: string): string {
  const lower = word.toLowerCase();
  // Most words hold no full-width character: testing first skips the replace and its callback.
  if (!FULL_WIDTH.test(lower)) return lower;
  return lower.replace(FULL_WIDTH_ALL, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

/** What feature extraction needs of a text, made once however many times the text is scored. */
export interface PreparedText {
  /** Each token Simplified, width- and case-folded. */
  words: string[];
  sentences: Array<[number, number]>;
}

export function prepareText(text: string, tokens: readonly Token[]): PreparedText {
  const simplified = toSimplified(text);
  // Folded word by word: lower-casing can change a string's length (İ), which would shift offsets.
  return { words: tokens.map((t) => foldWidthAndCase(simplified.slice(t.start, t.end))), sentences: sentenceRanges(tokens, text) };
}

/**
 * Emits the features of a prepared text into `sink`. With `includeSentence`, only the sentences
 * it accepts, numbered as `prepared.sentences` numbers them (the target-aware score reads only
 * the sentences near the topic).
 */
export function extractFeatures(
  prepared: PreparedText,
  lexicon: Lexicon,
  config: FeatureConfig,
  sink: FeatureSink,
  includeSentence?: (index: number) => boolean,
): void {
  const mask = (1 << config.hashBits) - 1;
  const { words, sentences } = prepared;
  for (let s = 0; s < sentences.length; s++) {
    if (includeSentence && !includeSentence(s)) continue;
    const [from, to] = sentences[s] as [number, number];
    const emit = (index: number, value: number) => sink(index, value, s);

    // Contrast: every conjunction scales what follows it and discounts what precedes it.
    const weights = new Float64Array(to - from).fill(1);
    for (let i = from; i < to; i++) {
      const c = lexicon.contrast.get(words[i] as string);
      if (c === undefined) continue;
      for (let j = from; j < i; j++) weights[j - from]! *= config.beforeContrast;
      for (let j = i + 1; j < to; j++) weights[j - from]! *= c;
    }

    let negated = false;
    let negationLeft = 0;
    let degree = 1;
    let prevWord: string | undefined;
    let c1 = -1; // previous character code unit, -1 at a boundary
    let c2 = -1; // the one before it
    for (let i = from; i < to; i++) {
      const word = words[i] as string;
      const w = weights[i - from] as number;
      if (prevWord !== undefined) emit(fnv(fnv(fnv(SEED.bigram, prevWord), '\u0001'), word) & mask, w);
      prevWord = word;

      const emoticon = lexicon.emoticons.get(word);
      if (emoticon !== undefined) {
        emit(fnv(SEED.word, word) & mask, w);
        emit(fnvUnit(SEED.emoticon, emoticon + 1) & mask, w);
        c1 = c2 = -1;
        continue;
      }
      if (isEmoticon(word)) {
        // An emoticon outside the table: a word of its own, no characters.
        emit(fnv(SEED.word, word) & mask, w);
        c1 = c2 = -1;
        continue;
      }

      for (let k = 0; k < word.length; k++) {
        const u = word.charCodeAt(k);
        emit(fnvUnit(SEED.char1, u) & mask, w);
        if (c1 >= 0) emit(fnvUnit(fnvUnit(SEED.char2, c1), u) & mask, w);
        if (c2 >= 0) emit(fnvUnit(fnvUnit(fnvUnit(SEED.char3, c2), c1), u) & mask, w);
        c2 = c1;
        c1 = u;
      }

      if (CLAUSE_END.test(word)) {
        emit(fnv(SEED.word, word) & mask, w);
        negated = false;
        negationLeft = 0;
        degree = 1;
        continue;
      }
      if (lexicon.negators.has(word)) {
        emit(fnv(SEED.word, word) & mask, w);
        negated = !negated;
        negationLeft = config.negationScope;
        continue;
      }
      const d = lexicon.degree.get(word);
      if (d !== undefined) {
        emit(fnv(SEED.word, word) & mask, w);
        degree *= d;
        continue;
      }
      emit(fnv(SEED.word, word) & mask, w * degree * (negated ? -1 : 1));
      degree = 1;
      if (negationLeft > 0 && --negationLeft === 0) negated = false;
    }
  }
}
