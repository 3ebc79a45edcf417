import { ShaobingError } from '../core/errors';
import { toSimplified } from './normalize';

/**
 * Chinese word segmentation (jieba) behind one small interface, used for relevance weighting,
 * sentiment, near-duplicate fingerprints and the search engine's token field.
 *
 * - Traditional text is segmented through its Simplified form (jieba's dictionary is Simplified and
 *   splits Traditional text badly); `toSimplified` keeps the length, so each token is the slice of
 *   the ORIGINAL text with the same offsets.
 * - Weibo emoticons (`[泪]`, `[笑cry]`) and user words (topic keywords) are pinned: found before
 *   jieba runs and emitted as single tokens, so no backend can split them or glue them to a
 *   neighbour. Doing this outside jieba makes both backends behave the same; jieba's own user
 *   dictionaries only change word frequencies, which a longer dictionary word can still outweigh.
 * - Whitespace is never a token; punctuation is (a "！" matters to sentiment).
 */

export type TokenizerKind = 'node-rs-jieba' | 'nodejieba';

export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['node-rs-jieba', 'nodejieba'];

export interface Token {
  /** The token as it appears in the original text (Traditional stays Traditional). */
  word: string;
  /** Offsets into the original text, in UTF-16 code units; `end` is exclusive. */
  start: number;
  end: number;
}

export interface Tokenizer {
  readonly kind: TokenizerKind;
  cut(text: string): Token[];
  words(text: string): string[];
  /** Pins words (e.g. topic keywords) so they always come out as one token. Traditional forms match too. */
  addWords(words: string[]): void;
}

/** What a jieba binding must offer: precise mode with the HMM on for unknown words. */
interface Segmenter {
  cut(text: string): string[];
}

/** A Sina Weibo emoticon: a short name in ASCII square brackets, no spaces. */
const EMOTICON = String.raw`\[[^[\]\s]{1,8}\]`;
const EMOTICON_AT = new RegExp(EMOTICON, 'y');
const EMOTICON_WHOLE = new RegExp(`^${EMOTICON}$`);
const WHITESPACE_ONLY = /^\s+$/;

/** Whether a token is a Weibo emoticon such as `[泪]` (the tokenizer keeps those whole). */
export function isEmoticon(word: string): boolean {
  return EMOTICON_WHOLE.test(word);
}

/**
 * Loaded on first use: `@node-rs/jieba` takes ~0.2 s and ~40 MB per instance. Each tokenizer gets
 * its own instance, which costs the dictionary again but keeps tokenizers independent.
 */
function nodeRsJieba(): Segmenter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Jieba } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { dict } = require('@node-rs/jieba/dict') as typeof import('@node-rs/jieba/dict');
  const jieba = Jieba.withDict(dict);
  return { cut: (text) => jieba.cut(text, true) };
}

let nodejiebaSegmenter: Segmenter | undefined;

/**
 * nodejieba is one global dictionary per process (~1 s, ~300 MB to load), so it is loaded once and
 * shared. It compiles from source at install; where that failed, selecting it says so.
 */
function nodejieba(): Segmenter {
  if (nodejiebaSegmenter) return nodejiebaSegmenter;
  let lib: typeof import('nodejieba');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = require('nodejieba') as typeof import('nodejieba');
  } catch (err) {
    throw new ShaobingError(
      'SB_CONFIG_INVALID',
      "tokenizer 'nodejieba' is selected but the nodejieba package is not installed or failed to build " +
        "(it compiles from source: `npm_config_nodedir=/usr npm install nodejieba`); use 'node-rs-jieba' instead",
      { cause: err },
    );
  }
  lib.load();
  nodejiebaSegmenter = { cut: (text) => lib.cut(text, true) };
  return nodejiebaSegmenter;
}

/** User words by their first code unit, longest first, so matching is leftmost-longest. */
class PinnedWords {
  readonly #byFirst = new Map<string, string[]>();

  add(words: readonly string[]): void {
    for (const raw of words) {
      const word = toSimplified(raw.trim());
      if (word === '') continue;
      const first = word[0] as string;
      const list = this.#byFirst.get(first) ?? [];
      if (list.includes(word)) continue;
      list.push(word);
      list.sort((a, b) => b.length - a.length);
      this.#byFirst.set(first, list);
    }
  }

  /** Length of the pinned word or emoticon starting at `at` in `text`, or 0. */
  matchAt(text: string, at: number): number {
    const ch = text[at] as string;
    if (ch === '[') {
      EMOTICON_AT.lastIndex = at;
      const m = EMOTICON_AT.exec(text);
      if (m) return m[0].length;
    }
    const list = this.#byFirst.get(ch);
    if (list) for (const word of list) if (text.startsWith(word, at)) return word.length;
    return 0;
  }
}

class JiebaTokenizer implements Tokenizer {
  readonly #segmenter: Segmenter;
  readonly #pinned = new PinnedWords();

  constructor(
    readonly kind: TokenizerKind,
    segmenter: Segmenter,
  ) {
    this.#segmenter = segmenter;
  }

  addWords(words: string[]): void {
    this.#pinned.add(words);
  }

  words(text: string): string[] {
    return this.cut(text).map((t) => t.word);
  }

  cut(text: string): Token[] {
    const simplified = toSimplified(text);
    const tokens: Token[] = [];
    const push = (start: number, end: number): void => {
      const word = text.slice(start, end);
      if (!WHITESPACE_ONLY.test(word)) tokens.push({ word, start, end });
    };
    // jieba returns every input character in order, so token lengths walk the original text.
    const segment = (from: number, to: number): void => {
      let at = from;
      for (const piece of this.#segmenter.cut(simplified.slice(from, to))) {
        push(at, at + piece.length);
        at += piece.length;
      }
    };
    let gapStart = 0;
    for (let i = 0; i < simplified.length; ) {
      const len = this.#pinned.matchAt(simplified, i);
      if (len === 0) {
        i++;
        continue;
      }
      if (gapStart < i) segment(gapStart, i);
      push(i, i + len);
      i += len;
      gapStart = i;
    }
    if (gapStart < simplified.length) segment(gapStart, simplified.length);
    return tokens;
  }
}

/** Defaults to `@node-rs/jieba`: measured 2× faster and 3× leaner than nodejieba, and needs no compiler. */
export function createTokenizer(kind: TokenizerKind = 'node-rs-jieba'): Tokenizer {
  switch (kind) {
    case 'node-rs-jieba':
      return new JiebaTokenizer(kind, nodeRsJieba());
    case 'nodejieba':
      return new JiebaTokenizer(kind, nodejieba());
    default:
      throw new ShaobingError('SB_CONFIG_INVALID', `unknown tokenizer kind ${JSON.stringify(kind)}; expected one of ${TOKENIZER_KINDS.join(', ')}`);
  }
}
