import { AhoCorasick } from './aho-corasick';

// opencc-js ships its CommonJS build as UMD inside a "type": "module" package, which TypeScript's
// node16 resolution takes for ESM-only; the Traditional→Simplified subset is required with a local type.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const OpenCC = require('opencc-js/t2cn') as {
  Converter(options: { from: 'tw' | 'hk' | 't'; to: 'cn' }): (text: string) => string;
  Locale: { configs: { tw2s: { normalizationChain: string[][]; conversionChain: string[][] } } };
};

/**
 * Text normalisation shared by matching and tokenising. Conversions here keep one output
 * character per input character wherever possible, so offsets found in normalised text can be
 * mapped back to the original text that analysts and the console see.
 */

const twToCn = OpenCC.Converter({ from: 'tw', to: 'cn' });

interface Gate {
  /** Strings whose presence can make OpenCC change a text. */
  changingKeys: AhoCorasick;
  /** 1 for each code unit that occurs in some OpenCC key (surrogates count as occurring). */
  inKeys: Uint8Array;
  /**
   * Whether normalize's folding maps every code unit of the changing keys to itself, but for CJK
   * compatibility ideographs, which normalize watches for: then a text holds no changing key
   * wherever its folded form holds none and it had no such ideograph (see isSimplified).
   */
  foldKeepsKeys: boolean;
}

let gate: Gate | undefined;

/**
 * OpenCC walks a Map per character, which makes it by far the most expensive step of
 * normalisation, while most mainland text comes out of it unchanged. So it is only run where it
 * can change something:
 *
 * - `changingKeys` are the dictionary keys whose conversion changes something. The tw→cn chain
 *   first maps Taiwan variants to OpenCC's Traditional (才→纔, 什么→什麼), then Traditional to
 *   Simplified (纔→才). Keys of the first step that come back unchanged through the whole chain
 *   would flag most texts for nothing, so they are left out; what they introduce (纔, 麼) can only
 *   matter inside a longer key of the second step, and the forms such keys take in the original
 *   text (麼些族 ← 么些族) are put in instead. Keys stay whole: "一坏"→"一坯" must not flag every 坏.
 * - Keys hold only Chinese characters, so a character in no key (punctuation, space, Latin…) ends
 *   every match: OpenCC converts the text between two such characters independently of the rest,
 *   and only those stretches around a changing key need converting.
 */
function conversionGate(): Gate {
  if (gate) return gate;
  const { normalizationChain, conversionChain } = OpenCC.Locale.configs.tw2s;
  const pairs = (dicts: string[] | undefined): Array<[string, string]> =>
    (dicts ?? []).flatMap((dict) =>
      dict.split('|').flatMap((entry): Array<[string, string]> => {
        const [key, value] = entry.split(' ');
        return key && value !== undefined ? [[key, value]] : [];
      }),
    );
  const keys = new Set<string>();
  const inKeys = new Uint8Array(0x10000).fill(1, 0xd800, 0xe000);
  const preimages = new Map<string, Set<string>>();
  for (const [key, value] of pairs(conversionChain[0])) {
    for (let i = 0; i < key.length; i++) inKeys[key.charCodeAt(i)] = 1;
    if (key === value) continue;
    const from = [...key];
    const to = [...value];
    if (twToCn(key) !== key || from.length !== to.length) keys.add(key);
    else to.forEach((ch, i) => ch !== from[i] && preimages.set(ch, (preimages.get(ch) ?? new Set()).add(from[i] as string)));
  }
  for (const [key, value] of [...pairs(normalizationChain.flat()), ...pairs(conversionChain.slice(1).flat())]) {
    for (let i = 0; i < key.length; i++) inKeys[key.charCodeAt(i)] = 1;
    if (key !== value) keys.add(key);
    const chars = [...key];
    if (chars.length > 1 && chars.some((ch) => preimages.has(ch))) {
      let forms = [''];
      for (const ch of chars) forms = forms.flatMap((f) => [ch, ...(preimages.get(ch) ?? [])].map((alt) => f + alt));
      for (const form of forms) keys.add(form);
    }
  }
  const { units } = fold();
  const kept = (unit: number): boolean => units[unit] === unit || isCompatibilityIdeograph(unit);
  const foldKeepsKeys = [...keys].every((key) => Array.from({ length: key.length }, (_, i) => key.charCodeAt(i)).every(kept));
  gate = { changingKeys: new AhoCorasick([...keys]), inKeys, foldKeepsKeys };
  return gate;
}

/**
 * Traditional → Simplified, keeping the length. OpenCC's phrase tables may change a stretch's
 * length (rarely); that stretch is then converted character by character, which keeps offsets
 * exact at a small cost in quality.
 */
export function toSimplified(text: string): string {
  return convertStretches(text, stretchesToConvert(text));
}

/** The stretches of `text` that OpenCC could change, as [start, end) pairs, merged and in order. */
function stretchesToConvert(text: string): number[] {
  const { changingKeys, inKeys } = conversionGate();
  const stretches: number[] = [];
  changingKeys.scan(text, (pattern, end) => {
    let from = end - changingKeys.patternLength(pattern);
    const last = stretches.length - 1;
    if (last > 0 && from < (stretches[last] as number)) return;
    while (from > 0 && inKeys[text.charCodeAt(from - 1)] === 1) from--;
    let to = end;
    while (to < text.length && inKeys[text.charCodeAt(to)] === 1) to++;
    stretches.push(from, to);
  });
  return stretches;
}

/** `text` with those stretches converted. */
function convertStretches(text: string, stretches: readonly number[]): string {
  if (stretches.length === 0) return text;
  let out = '';
  let at = 0;
  for (let k = 0; k < stretches.length; k += 2) {
    const from = stretches[k] as number;
    const to = stretches[k + 1] as number;
    out += text.slice(at, from) + convertKeepingLength(text.slice(from, to));
    at = to;
  }
  return out + text.slice(at);
}

function convertKeepingLength(text: string): string {
  const converted = twToCn(text);
  if (converted.length === text.length) return converted;
  let out = '';
  for (const ch of text) {
    const one = twToCn(ch);
    out += one.length === ch.length ? one : ch;
  }
  return out;
}

/**
 * Normalised text, and the way back to the original. Most characters keep their place, so the map
 * is kept as breakpoints (where the shift between the two texts changes: whitespace runs, dropped
 * and expanded characters) rather than one entry per character; the full `origin` array is only
 * built when asked for. Both save allocating per-character arrays for every document, most of
 * which never need an offset mapped.
 */
export class Normalized {
  #origin: Int32Array | undefined;

  constructor(
    /** The normalised text. */
    readonly text: string,
    /** The text before normalisation. */
    readonly source: string,
    /** Normalised positions where the shift changes, ascending, first 0… */
    private readonly breakAt: readonly number[],
    /** …and from each, original index minus normalised index. */
    private readonly shift: readonly number[],
    /** Whether the folded text held nothing for Traditional → Simplified to convert, and folding turned no compatibility ideograph into one that might have been. */
    readonly nothingToSimplify = false,
  ) {}

  /** The original index of `text[i]`; for `i = text.length`, the original length. */
  originalIndex(i: number): number {
    if (i >= this.text.length) return this.source.length;
    let lo = 0;
    let hi = this.breakAt.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.breakAt[mid] as number) <= i) lo = mid;
      else hi = mid - 1;
    }
    return i + (this.shift[lo] as number);
  }

  /** `origin[i]` is the original index of `text[i]`; `origin[text.length]` is the original length. */
  get origin(): Int32Array {
    if (!this.#origin) {
      const origin = new Int32Array(this.text.length + 1);
      for (let k = 0; k < this.breakAt.length; k++) {
        const to = k + 1 < this.breakAt.length ? (this.breakAt[k + 1] as number) : this.text.length;
        for (let i = this.breakAt[k] as number; i < to; i++) origin[i] = i + (this.shift[k] as number);
      }
      origin[this.text.length] = this.source.length;
      this.#origin = origin;
    }
    return this.#origin;
  }
}

// What one code unit becomes, by code unit: >= 0 a single unit, else one of these.
const WHITESPACE = -1;
const DROP = -2;
const EXPAND = -3;

interface FoldTable {
  units: Int32Array;
  expansions: Map<number, string>;
  /** Whether every CJK Unified Ideograph (U+4E00–U+9FFF) folds to itself, as NFKC leaves them: then the loop need not look them up. */
  ideographsKept: boolean;
}

function isUnifiedIdeograph(unit: number): boolean {
  return unit >= 0x4e00 && unit <= 0x9fff;
}

let foldTable: FoldTable | undefined;

/**
 * NFKC then lower case, for every BMP code unit, computed once (~60 ms) on first use. NFKC folds
 * full-width forms to ASCII, circled and compatibility forms to plain letters and digits, and CJK
 * compatibility ideographs and Kangxi radicals to ordinary ideographs: all spellings a keyword
 * should not have to list. Invisible format characters (zero-width spaces, joiners, bidi marks,
 * soft hyphens, variation selectors) are dropped, as they are a known way to dodge keyword filters.
 * Surrogates pass through: NFKC on half a pair means nothing.
 */
function fold(): FoldTable {
  if (foldTable) return foldTable;
  const units = new Int32Array(0x10000);
  const expansions = new Map<number, string>();
  const format = /^[\p{Cf}\uFE00-\uFE0F]$/u;
  const space = /^\s$/;
  const hasSpace = / /;
  for (let unit = 0; unit < 0x10000; unit++) {
    if (unit >= 0xd800 && unit <= 0xdfff) {
      units[unit] = unit;
      continue;
    }
    const ch = String.fromCharCode(unit);
    if (space.test(ch) || unit < 0x20 || (unit >= 0x7f && unit < 0xa0)) {
      units[unit] = WHITESPACE;
    } else if (format.test(ch)) {
      units[unit] = DROP;
    } else {
      const nfkc = ch.normalize('NFKC');
      // Spacing accents (¨ ´ ˜…) decompose to a space plus a combining mark: keep them as they are
      // rather than invent a word break.
      const folded = hasSpace.test(nfkc) ? ch.toLowerCase() : nfkc.toLowerCase();
      if (folded.length === 1) units[unit] = folded.charCodeAt(0);
      else {
        units[unit] = EXPAND;
        expansions.set(unit, folded);
      }
    }
  }
  let ideographsKept = true;
  for (let unit = 0x4e00; unit <= 0x9fff; unit++) if (units[unit] !== unit) ideographsKept = false;
  foldTable = { units, expansions, ideographsKept };
  return foldTable;
}

/** CJK Compatibility Ideographs: folding maps most to ordinary ideographs, some of which are in OpenCC's keys. */
function isCompatibilityIdeograph(unit: number): boolean {
  return unit >= 0xf900 && unit <= 0xfaff;
}

/** Reused output buffer: the normalised text is copied out of it into a string. */
let scratch = new Uint16Array(4096);

/**
 * The form keywords are matched in: NFKC (full-width → half-width, compatibility forms), lower
 * case, Traditional → Simplified, invisible format characters dropped, and each run of whitespace
 * collapsed to one space (not trimmed, so the first character keeps index 0 where it can).
 */
export function normalize(source: string): Normalized {
  const { units, expansions, ideographsKept } = fold();
  const n = source.length;
  // Expansions are rare and short; one that would not fit restarts the loop with room to spare.
  if (scratch.length < n + 16) scratch = new Uint16Array(2 * n + 16);
  const out = scratch;
  const breakAt: number[] = [0];
  const shift: number[] = [0];
  let delta = 0;
  let length = 0;
  let inSpace = false;
  let foldedIdeograph = false;
  for (let i = 0; i < n; i++) {
    const unit = source.charCodeAt(i);
    // Most of a Chinese text: no lookup, which once jieba has run is mostly a cache miss.
    let to = ideographsKept && isUnifiedIdeograph(unit) ? unit : (units[unit] as number);
    if (to !== unit && isCompatibilityIdeograph(unit)) foldedIdeograph = true;
    if (to === DROP) continue; // and a whitespace run continues across it
    if (to === WHITESPACE) {
      if (inSpace) continue;
      to = 0x20;
      inSpace = true;
    } else inSpace = false;
    if (i - length !== delta) {
      delta = i - length;
      if (breakAt[breakAt.length - 1] === length) shift[shift.length - 1] = delta;
      else {
        breakAt.push(length);
        shift.push(delta);
      }
    }
    if (to !== EXPAND) {
      out[length++] = to;
      continue;
    }
    const expansion = expansions.get(unit) as string;
    if (length + expansion.length > out.length - n + i) {
      scratch = new Uint16Array(2 * (out.length + expansion.length));
      return normalize(source);
    }
    for (let k = 0; k < expansion.length; k++) {
      if (k > 0) {
        delta--;
        breakAt.push(length);
        shift.push(delta);
      }
      out[length++] = expansion.charCodeAt(k);
    }
  }
  const folded = length === 0 ? '' : Buffer.from(out.buffer, 0, length * 2).toString('utf16le');
  const stretches = stretchesToConvert(folded);
  return new Normalized(convertStretches(folded, stretches), source, breakAt, shift, stretches.length === 0 && !foldedIdeograph);
}

/**
 * Whether `toSimplified(normalized.source)` is known to be the source itself, without converting
 * it again: when its folded form held no key OpenCC could change, neither did the source, as
 * folding keeps every character of those keys (compatibility ideographs aside, which normalize
 * notes). Saves a caller that reads the source (the sentiment analyzer, through the tokens) a
 * second pass over it.
 */
export function isSimplified(normalized: Normalized): boolean {
  return normalized.nothingToSimplify && conversionGate().foldKeepsKeys;
}

/** The normal form of a keyword: as `normalize`, trimmed. */
export function normalizeKeyword(keyword: string): string {
  return normalize(keyword).text.trim();
}

/**
 * Maps a range of the normalised text back to the original. The end is the end of the original
 * character behind the range's last unit, so a range ending inside an expansion (㎏ → kg) or on
 * half of a surrogate pair still covers whole original characters.
 */
export function originalRange(normalized: Normalized, start: number, end: number): { start: number; end: number } {
  const from = normalized.originalIndex(start);
  if (end <= start) return { start: from, end: from };
  const last = normalized.originalIndex(end - 1);
  const high = normalized.source.charCodeAt(last);
  const low = normalized.source.charCodeAt(last + 1);
  const pair = high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
  return { start: from, end: last + (pair ? 2 : 1) };
}
