/**
 * An Aho–Corasick automaton over UTF-16 code units: one pass over a text finds every occurrence of
 * every pattern, overlapping ones included, in time proportional to the text plus the occurrences.
 *
 * Written here rather than taken from npm: the packages that exist either work on bytes or on
 * whitespace-separated words (Chinese has no spaces), or keep one object per trie node, which at
 * 10,000 topics costs hundreds of thousands of objects. This one ends as a few typed arrays, laid
 * out for the cache, since with tens of thousands of keywords nearly every Chinese character
 * starts one and the scan is bound by memory reads:
 *
 * - Code units are mapped to dense symbols; a unit no pattern contains resets the automaton, which
 *   a bitmap small enough to stay in cache tells first. The units that start a pattern get the
 *   first symbols, so the root's step on symbol s leads to state s, and each code unit's 8-byte
 *   entry holds its symbol and that state's edge filter: most steps start at the root and most of
 *   the states they reach are left again at the next character, so the common step reads this one
 *   entry, where reading the symbol, the root's table and the state's record cost three cache
 *   misses once jieba has run between two documents.
 * - States are numbered breadth-first, so the shallow states that failure links lead back to sit
 *   together; each state's edge block start, failure link, edge filter and first state to report
 *   share one 16-byte record, kept at hand while the scan is in that state. Its edges are (symbol,
 *   target) pairs: a short list scanned in order, or for states with many children (the common
 *   first characters) an open-addressed table indexed by the symbol's low bits.
 * - With thousands of keywords nearly every character of a text leads out of the root, and most of
 *   the next characters continue no keyword. The filter (one bit per symbol modulo 32 of the
 *   state's edges) answers most of those misses from the record itself, without reading the edges:
 *   a step then costs one record, where the edge list would be another cache miss.
 * - Each state knows the first state on its failure chain, itself included, that ends a pattern;
 *   from there dictionary links lead through the rest, so reporting never walks states that end
 *   nothing, and the pattern and dictionary arrays are only read when something matched.
 */

export type OnMatch = (pattern: number, end: number) => void;

/** States with up to this many edges keep them in a list to scan (most have 1–3); others in a hash table. */
const LINEAR_EDGES = 4;

// Fields of a state record in `#states`.
const EDGES = 0; // index of its first edge pair in `#edges`; the next record's EDGES ends them
const FAIL = 1;
const FILTER = 2; // bit (symbol & 31) set for each of its edges' symbols
const REPORT = 3; // the state itself if a pattern ends there, else its dictionary link; -1 if none
const STRIDE = 4;
/** Numbers per code unit in `#units`: its symbol, tagged with the bits below, and the FILTER of the root's child on it. */
const UNIT = 2;
const SYMBOL = 0xffff;
/** The unit starts no pattern: the root stays where it is on it. */
const NO_START = 1 << 16;
/** The root's child on the unit ends a pattern (a one-unit pattern): it reports itself. */
const ENDS = 1 << 17;

export class AhoCorasick {
  /** By code unit, UNIT numbers: its symbol, whose state the root's step on it leads to, and that state's FILTER… */
  readonly #units: Int32Array;
  /** …and one bit per code unit, set for those in some pattern: 8 KB that stay in cache, read before the 512 KB of entries. */
  readonly #present: Int32Array;
  readonly #rootNext: Int32Array;
  readonly #states: Int32Array;
  readonly #edges: Int32Array;
  /** By state: the pattern ending there, or -1… */
  readonly #output: Int32Array;
  /** …and the nearest state on its failure chain with an output, or -1 (the "dictionary link"). */
  readonly #dict: Int32Array;
  readonly #lengths: Int32Array;

  /**
   * Patterns are identified by their index in `patterns`. Duplicates and empty strings are the
   * caller's to avoid: a duplicate is reported under its last index only, an empty one never.
   */
  constructor(patterns: readonly string[]) {
    // Units that start a pattern come first, so that the root's child on symbol s is state s
    // (states are numbered breadth-first, the root's children in order of symbol).
    const symbols = new Uint16Array(0x10000);
    let symbolCount = 0;
    for (const p of patterns) if (p.length > 0 && symbols[p.charCodeAt(0)] === 0) symbols[p.charCodeAt(0)] = ++symbolCount;
    const startSymbols = symbolCount;
    for (const p of patterns) {
      for (let i = 0; i < p.length; i++) {
        const unit = p.charCodeAt(i);
        if (symbols[unit] === 0) symbols[unit] = ++symbolCount;
      }
    }

    // Build the trie with a map per node, then number the nodes breadth-first and freeze.
    const children: Array<Map<number, number>> = [new Map()];
    const outputOf: number[] = [-1];
    const lengths = new Int32Array(patterns.length);
    patterns.forEach((p, id) => {
      lengths[id] = p.length;
      if (p.length === 0) return;
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const symbol = symbols[p.charCodeAt(i)] as number;
        const map = children[node] as Map<number, number>;
        let next = map.get(symbol);
        if (next === undefined) {
          next = children.length;
          map.set(symbol, next);
          children.push(new Map());
          outputOf.push(-1);
        }
        node = next;
      }
      outputOf[node] = id;
    });

    const count = children.length;
    const order = new Int32Array(count); // state → node
    const stateOf = new Int32Array(count); // node → state
    let tail = 1;
    for (let head = 0; head < tail; head++) {
      const node = order[head] as number;
      const sorted = [...(children[node] as Map<number, number>)].sort((a, b) => a[0] - b[0]);
      children[node] = new Map(sorted);
      for (const [, child] of sorted) {
        stateOf[child] = tail;
        order[tail++] = child;
      }
    }

    let edgeSlots = 0;
    for (let s = 1; s < count; s++) edgeSlots += blockSize((children[order[s] as number] as Map<number, number>).size);
    const states = new Int32Array((count + 1) * STRIDE);
    const edges = new Int32Array(2 * edgeSlots);
    const rootNext = new Int32Array(symbolCount + 1);
    const output = new Int32Array(count);
    const dict = new Int32Array(count).fill(-1);
    let e = 0;
    for (let s = 0; s < count; s++) {
      const node = order[s] as number;
      const kids = children[node] as Map<number, number>;
      states[s * STRIDE + EDGES] = e;
      output[s] = outputOf[node] as number;
      if (s === 0) {
        for (const [symbol, child] of kids) rootNext[symbol] = stateOf[child] as number;
        continue;
      }
      const size = blockSize(kids.size);
      for (const [symbol, child] of kids) {
        // A list fills in order; a table from the symbol's slot on (symbol 0 marks a free slot).
        let k = size <= LINEAR_EDGES ? 0 : symbol & (size - 1);
        while (edges[e + 2 * k] !== 0) k = (k + 1) % size;
        edges[e + 2 * k] = symbol;
        edges[e + 2 * k + 1] = stateOf[child] as number;
        states[s * STRIDE + FILTER]! |= 1 << (symbol & 31);
      }
      e += 2 * size;
    }
    states[count * STRIDE + EDGES] = e;
    this.#rootNext = rootNext;
    this.#states = states;
    this.#edges = edges;
    this.#output = output;
    this.#dict = dict;
    this.#lengths = lengths;

    // Breadth-first order means a state's failure target is final before its children need it.
    for (let s = 0; s < count; s++) {
      for (const [symbol, child] of this.#edgesOf(s)) {
        let next = 0;
        if (s !== 0) {
          let f = states[s * STRIDE + FAIL] as number;
          while ((next = this.#step(f, symbol)) < 0) f = states[f * STRIDE + FAIL] as number;
        }
        states[child * STRIDE + FAIL] = next;
        dict[child] = (output[next] as number) >= 0 ? next : (dict[next] as number);
      }
    }
    for (let s = 0; s < count; s++) states[s * STRIDE + REPORT] = (output[s] as number) >= 0 ? s : (dict[s] as number);
    const units = new Int32Array(0x10000 * UNIT);
    const present = new Int32Array(0x10000 >> 5);
    for (let unit = 0; unit < 0x10000; unit++) {
      const symbol = symbols[unit] as number;
      if (symbol === 0) continue;
      present[unit >> 5]! |= 1 << (unit & 31);
      if (symbol > startSymbols) {
        units[unit * UNIT] = symbol | NO_START;
        continue;
      }
      if (rootNext[symbol] !== symbol) throw new Error('AhoCorasick: the root’s children are not numbered by symbol');
      units[unit * UNIT] = symbol | ((output[symbol] as number) >= 0 ? ENDS : 0);
      units[unit * UNIT + 1] = states[symbol * STRIDE + FILTER] as number;
    }
    this.#units = units;
    this.#present = present;
  }

  get patternCount(): number {
    return this.#lengths.length;
  }

  patternLength(pattern: number): number {
    return this.#lengths[pattern] as number;
  }

  /** Calls `onMatch(pattern, end)` for every occurrence, in order of `end` (exclusive). */
  scan(text: string, onMatch: OnMatch): void {
    // Tables in locals and the goto function inlined by hand: this loop runs for every character
    // of every document, and private-field loads and calls cost it a good share of its speed.
    const units = this.#units;
    const present = this.#present;
    const states = this.#states;
    const edges = this.#edges;
    const output = this.#output;
    const dict = this.#dict;
    let state = 0;
    // The current state's record, kept at hand: most states are left at the next character, back
    // to the root, whose step the character's own entry in `units` already holds.
    let filter = 0;
    let fail = 0;
    let report = -1;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if ((((present[unit >> 5] as number) >>> (unit & 31)) & 1) === 0) {
        state = 0;
        continue;
      }
      const entry = unit * UNIT;
      const tagged = units[entry] as number;
      const symbol = tagged & SYMBOL;
      for (;;) {
        if (state === 0) {
          if ((tagged & NO_START) === 0) {
            state = symbol;
            filter = units[entry + 1] as number;
            report = (tagged & ENDS) !== 0 ? symbol : -1;
            fail = 0;
          } else report = -1;
          break;
        }
        let next = 0; // never a target: the root has no parent
        // Most symbols have no edge here, which the filter tells without reading the edges.
        if (((filter >>> (symbol & 31)) & 1) !== 0) {
          const record = state * STRIDE;
          let lo = states[record + EDGES] as number;
          const hi = states[record + STRIDE + EDGES] as number;
          const size = (hi - lo) >> 1;
          if (size <= LINEAR_EDGES) {
            for (; lo < hi; lo += 2) {
              if (edges[lo] === symbol) {
                next = edges[lo + 1] as number;
                break;
              }
            }
          } else {
            const mask = size - 1;
            for (let k = symbol & mask; ; k = (k + 1) & mask) {
              const at = lo + 2 * k;
              const s = edges[at] as number;
              if (s === symbol) {
                next = edges[at + 1] as number;
                break;
              }
              if (s === 0) break;
            }
          }
        }
        if (next !== 0) {
          state = next;
          const record = next * STRIDE;
          filter = states[record + FILTER] as number;
          fail = states[record + FAIL] as number;
          report = states[record + REPORT] as number;
          break;
        }
        state = fail;
        if (state !== 0) {
          const record = state * STRIDE;
          filter = states[record + FILTER] as number;
          fail = states[record + FAIL] as number;
        }
      }
      for (let s = report; s > 0; s = dict[s] as number) onMatch(output[s] as number, i + 1);
    }
  }

  /** The goto function, for building: the target state, or -1 when `state` has no edge (the root always has one). */
  #step(state: number, symbol: number): number {
    if (state === 0) return this.#rootNext[symbol] as number;
    for (const [s, target] of this.#edgesOf(state)) if (s === symbol) return target;
    return -1;
  }

  /** A state's (symbol, target) edges, for building. */
  *#edgesOf(state: number): Generator<[number, number]> {
    if (state === 0) {
      for (let symbol = 1; symbol < this.#rootNext.length; symbol++) {
        const target = this.#rootNext[symbol] as number;
        if (target > 0) yield [symbol, target];
      }
      return;
    }
    const to = this.#states[(state + 1) * STRIDE + EDGES] as number;
    for (let k = this.#states[state * STRIDE + EDGES] as number; k < to; k += 2) {
      if (this.#edges[k] !== 0) yield [this.#edges[k] as number, this.#edges[k + 1] as number];
    }
  }
}

/** Edge slots for a state with `n` children: the list itself, or a table at most half full. */
function blockSize(n: number): number {
  if (n <= LINEAR_EDGES) return n;
  let size = 2 * LINEAR_EDGES;
  while (size < 2 * n) size *= 2;
  return size;
}
