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
  /** The feature of the word with this id itself (bucket `index` of its WordFeatures, and its shape copy with `shapeView`). */
  word(id: number, value: number): void;
  /** Each character n-gram inside the word with this id (buckets `inner` of its WordFeatures, and their shape copies with `shapeView`), all with this value. */
  inner(id: number, value: number): void;
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

// What a word does to the words around it: the low bits of its WordTable record's FLAGS.
const PLAIN = 0;
/** Punctuation, symbols: ends the reach of negation and degree. */
const CLAUSE = 1;
const NEGATOR = 2;
const DEGREE = 3;
/** A Weibo emoticon: a word of its own, no characters. */
const EMOTICON = 4;
const ROLE_MASK = 7;
/** FLAGS bit: the word ends a sentence… */
const ENDS_SENTENCE = 8;
/** …and: a contrast conjunction (its weight is in WordTable's scales). */
const CONTRAST = 16;

// A word's record in WordTable.records: RECORD numbers per word id, all a sentence needs of a word.
const FLAGS = 0;
/** Hash state of a word bigram that starts with this word, before the next word goes in. */
const BIGRAM_LEFT = 1;
/** Where the text's code units start in WordTable's pool. */
const TEXT_AT = 2;
/** How many character n-grams lie inside the word. */
const INNER_COUNT = 3;
const KEY_LENGTH = 4;
const TEXT_LENGTH = 5;
/** The text's first code unit, and its second (0 if none) in the high half… */
const HEAD = 6;
/** …and its last, and its second last (0 if none) in the high half. */
const TAIL = 7;
const RECORD = 8;

/** What training needs of one distinct word: the buckets of its word-level features. Made once per word by a WordTable. */
export interface WordFeatures {
  /** The table's key: the Simplified form of the token before width and case folding… */
  readonly key: string;
  /** …and the word as the features see it: Simplified, width- and case-folded. */
  readonly text: string;
  /** Bucket of the word's own feature. */
  readonly index: number;
  /** Buckets of the character 1–3-grams that lie inside the word (those that reach into a neighbour depend on it). */
  readonly inner: readonly number[];
}

/** Distinct words kept; past this the table starts again, between two texts (50 news-broadcast articles hold 7,000). */
const TABLE_WORDS = 50_000;
/** Numbers per word in WordTable.sums: [own, inner] for plain text, then for a social-media post. */
export const SUMS_STRIDE = 4;

/** `a` in the low half of an int, `b` in the high half. */
function pack(a: number, b: number): number {
  return a | (b << 16);
}

/** Code units `at` and `at + 1` of `text` packed, 0 for those past its end (its length tells "a" from "a\0"). */
function unitPair(text: string, at: number): number {
  const length = text.length;
  return at + 1 < length ? pack(text.charCodeAt(at), text.charCodeAt(at + 1)) : at < length ? text.charCodeAt(at) : 0;
}

/**
 * Word → id, filled as words are met, with what the features need of each word in typed arrays
 * by id: a record of numbers (RECORD per word) and, for a scorer that passes its model's weights,
 * the weight sums of the word's own feature and of the n-grams inside it, so those cost one
 * multiplication per occurrence instead of a hash and a weight lookup each. Keys are the
 * Simplified form of a token before width and case folding.
 *
 * Laid out for the cache rather than as an object per word: scoring looks up every token of every
 * document, mostly right after jieba has run through its dictionary and evicted everything else, so
 * each memory line a lookup touches is likely a miss. A slot holds the key's hash, its id and its
 * first four code units, so a lookup reads one slot line and the word's record (which the features
 * read next anyway), and the key string only for words longer than four units. Ids are given in
 * the order words are first met, so the common words' records and sums sit together.
 */
export class WordTable {
  /** RECORD numbers per word id: FLAGS, BIGRAM_LEFT… (replaced as it grows; read it after adding words). */
  records: Int32Array<ArrayBuffer> = new Int32Array(1024 * RECORD);
  /** With weights: SUMS_STRIDE numbers per word id, for each text shape the weight of the word's own feature and the summed weights of its inner n-grams (shape copies included with `shapeView`). */
  sums: Float64Array<ArrayBuffer> | undefined;
  /** Per word id: its degree multiplier (degree adverbs) and its contrast weight (contrast conjunctions). */
  #scales: Float64Array<ArrayBuffer> = new Float64Array(1024 * 2);
  /** Per word id: the bucket of a known emoticon's class, else -1. */
  #emoticons: Int32Array<ArrayBuffer> = new Int32Array(1024);
  /** The words' texts one after another (see TEXT_AT): for the bigrams of words longer than the record holds. */
  #pool: Uint16Array<ArrayBuffer> = new Uint16Array(4096);
  #poolSize = 0;
  readonly #words: WordFeatures[] = [];
  /** Open addressing, at most half full so probe runs stay short: per slot the key's hash, id + 1 (0: free), its code units 0–1 and 2–3. */
  #slots = new Int32Array(1024 * 4);
  #generation = 0;
  readonly #mask: number;

  constructor(
    private readonly lexicon: Lexicon,
    readonly config: FeatureConfig,
    private readonly weights?: Float32Array,
  ) {
    this.#mask = (1 << config.hashBits) - 1;
    if (weights) this.sums = new Float64Array(1024 * SUMS_STRIDE);
  }

  /** Changes whenever the table starts again, which makes earlier ids mean other words. */
  get generation(): number {
    return this.#generation;
  }

  /** The word with this id. */
  word(id: number): WordFeatures {
    return this.#words[id] as WordFeatures;
  }

  /** How many character n-grams lie inside a word. */
  innerCount(id: number): number {
    return this.records[id * RECORD + INNER_COUNT] as number;
  }

  /** The bucket of an emoticon's class, or -1 for a word that is no known emoticon. */
  emoticonIndex(id: number): number {
    return this.#emoticons[id] as number;
  }

  /** The text's code units, from TEXT_AT on. */
  get pool(): Uint16Array {
    return this.#pool;
  }

  /** A word's degree multiplier (1 for a word that is no degree adverb). */
  degree(id: number): number {
    return this.#scales[2 * id] as number;
  }

  /** A contrast conjunction's weight for the rest of its sentence (0 for other words). */
  contrast(id: number): number {
    return this.#scales[2 * id + 1] as number;
  }

  /** Starts the table again if `count` more words could take it past TABLE_WORDS. Ids stay valid until then. */
  reserve(count: number): void {
    if (this.#words.length === 0 || this.#words.length + count <= TABLE_WORDS) return;
    this.#words.length = 0;
    this.#poolSize = 0;
    this.#slots.fill(0);
    this.#generation++;
  }

  /** The key's id, adding the word if it is new. */
  get(key: string): number {
    const length = key.length;
    const hash = fnv(FNV_OFFSET, key);
    const units01 = unitPair(key, 0);
    const units23 = unitPair(key, 2);
    const slots = this.#slots;
    const last = (slots.length >> 2) - 1;
    for (let i = hash & last; ; i = (i + 1) & last) {
      const at = i << 2;
      const tag = slots[at + 1] as number;
      if (tag === 0) break;
      const id = tag - 1;
      if (
        slots[at] === hash &&
        slots[at + 2] === units01 &&
        slots[at + 3] === units23 &&
        this.records[id * RECORD + KEY_LENGTH] === length &&
        (length <= 4 || (this.#words[id] as WordFeatures).key === key)
      ) {
        return id;
      }
    }
    const id = this.#words.length;
    if (2 * (id + 1) > slots.length >> 2) this.#growSlots();
    this.#insert(hash, id, units01, units23);
    this.#make(key, id);
    return id;
  }

  #insert(hash: number, id: number, units01: number, units23: number): void {
    const slots = this.#slots;
    const last = (slots.length >> 2) - 1;
    let i = hash & last;
    while (slots[(i << 2) + 1] !== 0) i = (i + 1) & last;
    slots[i << 2] = hash;
    slots[(i << 2) + 1] = id + 1;
    slots[(i << 2) + 2] = units01;
    slots[(i << 2) + 3] = units23;
  }

  /** Twice the slots, the words moved over. */
  #growSlots(): void {
    const old = this.#slots;
    this.#slots = new Int32Array(2 * old.length);
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 1] !== 0) this.#insert(old[at] as number, (old[at + 1] as number) - 1, old[at + 2] as number, old[at + 3] as number);
    }
  }

  #make(key: string, id: number): void {
    const { lexicon, weights } = this;
    const mask = this.#mask;
    if ((id + 1) * RECORD > this.records.length) {
      this.records = grown(this.records, 2 * this.records.length);
      this.#scales = grown(this.#scales, 2 * this.#scales.length);
      this.#emoticons = grown(this.#emoticons, 2 * this.#emoticons.length);
      if (this.sums) this.sums = grown(this.sums, 2 * this.sums.length);
    }
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
    const contrast = lexicon.contrast.get(text) ?? 0;
    const record = id * RECORD;
    const records = this.records;
    // On the unfolded form, as sentences have always been cut.
    records[record + FLAGS] = role | (SENTENCE_END.test(key) ? ENDS_SENTENCE : 0) | (contrast !== 0 ? CONTRAST : 0);
    records[record + BIGRAM_LEFT] = fnv(fnv(SEED.bigram, text), '\u0001');
    if (this.#poolSize + text.length > this.#pool.length) this.#pool = grown(this.#pool, 2 * (this.#pool.length + text.length));
    for (let k = 0; k < text.length; k++) this.#pool[this.#poolSize + k] = text.charCodeAt(k);
    records[record + TEXT_AT] = this.#poolSize;
    this.#poolSize += text.length;
    this.#emoticons[id] = emoticon === undefined ? -1 : fnvUnit(SEED.emoticon, emoticon + 1) & mask;
    records[record + INNER_COUNT] = inner.length;
    records[record + KEY_LENGTH] = key.length;
    records[record + TEXT_LENGTH] = text.length;
    records[record + HEAD] = unitPair(text, 0);
    records[record + TAIL] = text.length > 1 ? pack(text.charCodeAt(text.length - 1), text.charCodeAt(text.length - 2)) : unitPair(text, 0);
    this.#scales[2 * id] = lexicon.degree.get(text) ?? 1;
    this.#scales[2 * id + 1] = contrast;
    const { sums } = this;
    if (weights && sums) {
      for (const shape of [PLAIN_TEXT, SOCIAL_POST]) {
        const weight = (i: number): number => (weights[i] as number) + (this.config.shapeView ? (weights[shapeBucket(i, shape, mask)] as number) : 0);
        let innerWeight = 0;
        for (const i of inner) innerWeight += weight(i);
        sums[id * SUMS_STRIDE + 2 * shape] = weight(index);
        sums[id * SUMS_STRIDE + 2 * shape + 1] = innerWeight;
      }
    }
    this.#words.push({ key, text, index, inner });
  }
}

/** A copy of `array` with room for `length` numbers. */
function grown<A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | Uint16Array<ArrayBuffer>>(array: A, length: number): A {
  const bigger = new (array.constructor as new (length: number) => A)(length);
  bigger.set(array);
  return bigger;
}

/** What feature extraction needs of a text, made once however many times the text is scored. */
export interface PreparedText {
  shape: TextShape;
  /** The table the words' ids are in, and its generation then: the ids hold while it has not changed. */
  table: WordTable;
  generation: number;
  /** Each token's word id. */
  words: number[];
  /** Where each sentence ends, as an index into `words` (exclusive); sentence s starts where s − 1 ends. */
  sentenceEnds: number[];
  /**
   * Where each sentence's stretch of the text ends: the end of its last token, and for the last
   * sentence the end of the text. A sentence owns the text from the previous one's stop to its own.
   */
  sentenceStops: number[];
}

/** A stretch of text and its tokens (offsets into it). */
export interface TextPart {
  text: string;
  tokens: readonly Token[];
  /** Whether the text is known to be its own Simplified form (`toSimplified` would leave it as it is), which saves converting it. */
  simplified?: boolean | undefined;
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
  return prepareParts([{ text, tokens }], table);
}

/**
 * prepareText of the parts joined by line breaks (a title, then the body), without joining them
 * or moving their tokens: offsets in `sentenceStops` are into the joined text. Neither the text's
 * shape nor its Simplified form can depend on a line break between parts (no social-media markup
 * and no OpenCC key holds one), so each part is read on its own.
 */
export function prepareParts(parts: readonly TextPart[], table: WordTable): PreparedText {
  let count = 0;
  for (const part of parts) count += part.tokens.length;
  table.reserve(count);
  const words = new Array<number>(count);
  const sentenceEnds: number[] = [];
  const sentenceStops: number[] = [];
  let shape = PLAIN_TEXT;
  let n = 0;
  /** Where the current part starts in the joined text… */
  let offset = 0;
  /** …and where the last token read ends in it. */
  let end = 0;
  for (const part of parts) {
    const { text, tokens } = part;
    if (table.config.shapeView && shape === PLAIN_TEXT) shape = textShape(text);
    // The line break before this part ends the sentence before it.
    if (tokens.length > 0 && n > (sentenceEnds.at(-1) ?? 0)) {
      sentenceEnds.push(n);
      sentenceStops.push(end);
    }
    const simplified = part.simplified ? text : toSimplified(text);
    // Mostly nothing was converted: then each token's word is its own key, with no slicing.
    const unchanged = simplified === text;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] as Token;
      const id = table.get(unchanged ? token.word : simplified.slice(token.start, token.end));
      words[n++] = id;
      end = offset + token.end;
      // A line break is never a token (whitespace), so look at the gap to the next token as well.
      const next = tokens[i + 1];
      if (((table.records[id * RECORD + FLAGS] as number) & ENDS_SENTENCE) !== 0 || (next !== undefined && next.start > token.end && hasLineBreak(text, token.end, next.start))) {
        sentenceEnds.push(n);
        sentenceStops.push(end);
      }
    }
    offset += text.length + 1;
  }
  if (n > (sentenceEnds.at(-1) ?? 0)) {
    sentenceEnds.push(n);
    sentenceStops.push(end);
  }
  // The last sentence owns the rest of the text.
  if (sentenceStops.length > 0) sentenceStops[sentenceStops.length - 1] = offset - 1;
  return { shape, table, generation: table.generation, words, sentenceEnds, sentenceStops };
}

/** Reused for the contrast weights of a sentence. */
let contrastScratch = new Float64Array(256);

/** FNV of `prev`'s bigram state followed by the text of word `id`. */
function bigramBucket(table: WordTable, prev: number, id: number, mask: number): number {
  const { records } = table;
  const record = id * RECORD;
  let h = records[prev * RECORD + BIGRAM_LEFT] as number;
  const length = records[record + TEXT_LENGTH] as number;
  if (length > 2) {
    const { pool } = table;
    for (let k = records[record + TEXT_AT] as number, end = k + length; k < end; k++) h = Math.imul(h ^ (pool[k] as number), FNV_PRIME);
    return h & mask;
  }
  // Most words are one or two code units, which the record holds.
  const head = records[record + HEAD] as number;
  if (length > 0) h = Math.imul(h ^ (head & 0xffff), FNV_PRIME);
  if (length > 1) h = Math.imul(h ^ (head >>> 16), FNV_PRIME);
  return h & mask;
}

/** Emits the features of sentence `s` of a prepared text into `sink`. */
export function sentenceFeatures(prepared: PreparedText, s: number, sink: FeatureSink): void {
  const { table, words, sentenceEnds } = prepared;
  if (prepared.generation !== table.generation) throw new Error('sentenceFeatures: the word table started again since the text was prepared');
  const { config, records } = table;
  const mask = (1 << config.hashBits) - 1;
  const from = s === 0 ? 0 : (sentenceEnds[s - 1] as number);
  const to = sentenceEnds[s] as number;

  // Contrast: every conjunction scales what follows it and discounts what precedes it.
  let weights: Float64Array | undefined;
  for (let i = from; i < to; i++) {
    const id = words[i] as number;
    if (((records[id * RECORD + FLAGS] as number) & CONTRAST) === 0) continue;
    const c = table.contrast(id);
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
  let prev = -1;
  let c1 = -1; // previous character code unit, -1 at a boundary
  let c2 = -1; // the one before it
  for (let i = from; i < to; i++) {
    const id = words[i] as number;
    const record = id * RECORD;
    const w = weights ? (weights[i - from] as number) : 1;
    if (prev >= 0) sink.feature(bigramBucket(table, prev, id, mask), w);
    prev = id;

    const role = (records[record + FLAGS] as number) & ROLE_MASK;
    if (role === EMOTICON) {
      sink.word(id, w);
      const emoticonIndex = table.emoticonIndex(id);
      if (emoticonIndex >= 0) sink.feature(emoticonIndex, w);
      c1 = c2 = -1;
      continue;
    }

    const length = records[record + TEXT_LENGTH] as number;
    if (length > 0) {
      // The n-grams that reach back into the previous word; those inside this one come with it.
      const head = records[record + HEAD] as number;
      const u0 = head & 0xffff;
      if (c1 >= 0) {
        sink.feature(fnvUnit(fnvUnit(SEED.char2, c1), u0) & mask, w);
        if (c2 >= 0) sink.feature(fnvUnit(fnvUnit(fnvUnit(SEED.char3, c2), c1), u0) & mask, w);
        if (length > 1) sink.feature(fnvUnit(fnvUnit(fnvUnit(SEED.char3, c1), u0), head >>> 16) & mask, w);
      }
      sink.inner(id, w);
      const tail = records[record + TAIL] as number;
      c2 = length > 1 ? tail >>> 16 : c1;
      c1 = tail & 0xffff;
    }

    switch (role) {
      case CLAUSE:
        sink.word(id, w);
        negated = false;
        negationLeft = 0;
        degree = 1;
        break;
      case NEGATOR:
        sink.word(id, w);
        negated = !negated;
        negationLeft = config.negationScope;
        break;
      case DEGREE:
        sink.word(id, w);
        degree *= table.degree(id);
        break;
      default:
        sink.word(id, w * degree * (negated ? -1 : 1));
        degree = 1;
        if (negationLeft > 0 && --negationLeft === 0) negated = false;
    }
  }
}
