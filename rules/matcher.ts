import { ShaobingError } from '../core/errors';
import { AhoCorasick } from './aho-corasick';
import { type ExprNode, parseExpr, requiredTermSets } from './expr';
import { normalize, normalizeKeyword, originalRange, type Normalized } from './normalize';
import { GROUPS, type Topic } from './topics';

/**
 * All topics compiled into one matcher. One Aho–Corasick pass over the normalised title and text
 * finds every keyword of every topic; then only topics all of whose keyword groups were hit are
 * evaluated in full (exclusions, the expression with its near() and title: parts). The work per
 * document grows with the text and the keywords it contains, not with the number of topics.
 *
 * A keyword matches wherever its normalised form occurs, also inside a longer word: 舆情 analysts
 * expect 爆炸 to find 大爆炸 and 爆炸案 whatever a tokenizer would have made of them.
 */

export type Field = 'title' | 'text';

/** One occurrence of one of a topic's keywords. */
export interface TermHit {
  /** The keyword as the topic spells it. */
  term: string;
  field: Field;
  /** Offsets into the ORIGINAL title or text (UTF-16 code units, `end` exclusive), for highlighting. */
  start: number;
  end: number;
  /** The keyword group it belongs to: region, subject, event, or expr (expr.1, expr.2… when the expression has several required parts). */
  group: string;
}

export interface TopicHit {
  topic: Topic;
  /**
   * Occurrences of the topic's keywords, title first, each field in order. Excluded words never
   * appear, nor a keyword inside a longer one of the same topic (工厂 within 化工厂).
   */
  hits: TermHit[];
  /** The topic's keyword groups; a match covers them all. */
  groups: string[];
}

export interface MatchInput {
  title: string;
  text: string;
}

export interface Matcher {
  readonly topics: readonly Topic[];
  /** Distinct normalised keywords in the automaton. */
  readonly keywordCount: number;
  match(input: MatchInput): TopicHit[];
  /** As `match`, for callers that normalised the texts already (and use them for more than matching). */
  matchNormalized(title: Normalized, text: Normalized): TopicHit[];
}

// Field masks: where a keyword counts.
const IN_TITLE = 1;
const IN_TEXT = 2;
const ANYWHERE = IN_TITLE | IN_TEXT;

type Compiled =
  | { kind: 'term'; pattern: number }
  | { kind: 'or'; items: Compiled[] }
  | { kind: 'and'; all: Compiled[]; none: Compiled[] }
  | { kind: 'near'; left: number[]; right: number[]; distance: number }
  | { kind: 'title'; expr: Compiled };

interface CompiledTerm {
  pattern: number;
  keyword: string;
  fields: number;
  group: string;
}

interface CompiledTopic {
  topic: Topic;
  groups: string[];
  exclude: number[];
  expr: Compiled | undefined;
  /** The keywords that can help the topic match, with the fields where they count. */
  terms: CompiledTerm[];
}

/**
 * Compiles topics into one matcher. Topics from loadTopicFiles are valid; for others, a bad
 * expression, an empty keyword or a duplicate id throws SB_CONFIG_INVALID.
 */
export function compileTopics(topics: readonly Topic[]): Matcher {
  return new AutomatonMatcher(topics);
}

class AutomatonMatcher implements Matcher {
  readonly topics: readonly Topic[];
  readonly #compiled: CompiledTopic[];
  readonly #automaton: AhoCorasick;
  // Postings: pattern → required-group slots it fills; slot → topic.
  readonly #slotsStart: Int32Array;
  readonly #slots: Int32Array;
  readonly #slotTopic: Int32Array;
  readonly #groupCount: Int32Array;

  // Per-document scratch, reused: a stamp equal to #generation means "set during this document".
  #generation = 0;
  readonly #patternStamp: Uint32Array;
  readonly #patternFields: Uint8Array;
  readonly #patternHead: Int32Array;
  readonly #patternTail: Int32Array;
  readonly #slotStamp: Uint32Array;
  readonly #topicStamp: Uint32Array;
  readonly #topicGroups: Int32Array;
  readonly #hitPatterns: number[] = [];
  #occurrences = 0;
  #occStart = new Int32Array(256);
  #occEnd = new Int32Array(256);
  #occField = new Uint8Array(256);
  #occNext = new Int32Array(256);
  #field = IN_TITLE;
  readonly #onMatch: (pattern: number, end: number) => void;

  constructor(topics: readonly Topic[]) {
    this.topics = topics;
    const patterns = new Map<string, number>();
    const normalized = new Map<string, string>();
    let compiling: Topic | undefined;
    const patternOf = (keyword: string): number => {
      let norm = normalized.get(keyword);
      if (norm === undefined) {
        norm = normalizeKeyword(keyword);
        if (norm === '') throw new ShaobingError('SB_CONFIG_INVALID', `topic "${compiling?.id}": keyword ${JSON.stringify(keyword)} is empty once normalised`);
        normalized.set(keyword, norm);
      }
      let id = patterns.get(norm);
      if (id === undefined) {
        id = patterns.size;
        patterns.set(norm, id);
      }
      return id;
    };
    const seenIds = new Set<string>();
    const slotPatterns: number[][] = [];
    const slotTopic: number[] = [];
    this.#compiled = topics.map((topic, index) => {
      compiling = topic;
      if (seenIds.has(topic.id)) throw new ShaobingError('SB_CONFIG_INVALID', `duplicate topic id "${topic.id}"`);
      seenIds.add(topic.id);
      const compiled = compileTopic(topic, patternOf);
      for (const group of compiled.required) {
        slotPatterns.push(group);
        slotTopic.push(index);
      }
      return compiled.topic;
    });

    this.#automaton = new AhoCorasick([...patterns.keys()]);
    const patternCount = patterns.size;
    const perPattern: number[][] = Array.from({ length: patternCount }, () => []);
    slotPatterns.forEach((group, slot) => {
      for (const p of new Set(group)) (perPattern[p] as number[]).push(slot);
    });
    this.#slotsStart = new Int32Array(patternCount + 1);
    this.#slots = new Int32Array(perPattern.reduce((n, s) => n + s.length, 0));
    let at = 0;
    perPattern.forEach((slots, p) => {
      this.#slotsStart[p] = at;
      this.#slots.set(slots, at);
      at += slots.length;
    });
    this.#slotsStart[patternCount] = at;
    this.#slotTopic = Int32Array.from(slotTopic);
    this.#groupCount = new Int32Array(topics.length);
    for (const t of slotTopic) (this.#groupCount[t] as number)++;

    this.#patternStamp = new Uint32Array(patternCount);
    this.#patternFields = new Uint8Array(patternCount);
    this.#patternHead = new Int32Array(patternCount);
    this.#patternTail = new Int32Array(patternCount);
    this.#slotStamp = new Uint32Array(slotTopic.length);
    this.#topicStamp = new Uint32Array(topics.length);
    this.#topicGroups = new Int32Array(topics.length);
    // Bound, not an arrow function: an arrow here would keep the whole constructor scope (the
    // keyword maps and postings lists being built) alive for the life of the matcher.
    this.#onMatch = this.#record.bind(this);
  }

  get keywordCount(): number {
    return this.#automaton.patternCount;
  }

  match(input: MatchInput): TopicHit[] {
    return this.matchNormalized(normalize(input.title), normalize(input.text));
  }

  matchNormalized(title: Normalized, text: Normalized): TopicHit[] {
    this.#begin();
    this.#field = IN_TITLE;
    this.#automaton.scan(title.text, this.#onMatch);
    this.#field = IN_TEXT;
    this.#automaton.scan(text.text, this.#onMatch);

    const generation = this.#generation;
    const candidates: number[] = [];
    for (const p of this.#hitPatterns) {
      for (let i = this.#slotsStart[p] as number, end = this.#slotsStart[p + 1] as number; i < end; i++) {
        const slot = this.#slots[i] as number;
        if (this.#slotStamp[slot] === generation) continue;
        this.#slotStamp[slot] = generation;
        const t = this.#slotTopic[slot] as number;
        if (this.#topicStamp[t] !== generation) {
          this.#topicStamp[t] = generation;
          this.#topicGroups[t] = 0;
        }
        if (++(this.#topicGroups[t] as number) === this.#groupCount[t]) candidates.push(t);
      }
    }

    const results: TopicHit[] = [];
    for (const t of candidates.sort((a, b) => a - b)) {
      const compiled = this.#compiled[t] as CompiledTopic;
      if (compiled.exclude.some((p) => this.#patternStamp[p] === generation)) continue;
      if (compiled.expr && !this.#holds(compiled.expr, ANYWHERE)) continue;
      results.push({ topic: compiled.topic, hits: this.#hits(compiled, title, text), groups: compiled.groups });
    }
    return results;
  }

  #begin(): void {
    this.#generation = (this.#generation + 1) >>> 0;
    if (this.#generation === 0) {
      // After 2^32 documents the stamps wrap: clear them once rather than mistake old ones for new.
      this.#patternStamp.fill(0);
      this.#slotStamp.fill(0);
      this.#topicStamp.fill(0);
      this.#generation = 1;
    }
    this.#occurrences = 0;
    this.#hitPatterns.length = 0;
  }

  #record(pattern: number, end: number): void {
    const i = this.#occurrences++;
    if (i === this.#occStart.length) this.#growOccurrences();
    this.#occStart[i] = end - this.#automaton.patternLength(pattern);
    this.#occEnd[i] = end;
    this.#occField[i] = this.#field;
    this.#occNext[i] = -1;
    if (this.#patternStamp[pattern] !== this.#generation) {
      this.#patternStamp[pattern] = this.#generation;
      this.#patternFields[pattern] = this.#field;
      this.#patternHead[pattern] = i;
      this.#hitPatterns.push(pattern);
    } else {
      this.#patternFields[pattern] = (this.#patternFields[pattern] as number) | this.#field;
      this.#occNext[this.#patternTail[pattern] as number] = i;
    }
    this.#patternTail[pattern] = i;
  }

  #growOccurrences(): void {
    const size = this.#occStart.length * 2;
    const grow = <A extends Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const bigger = make(size);
      bigger.set(a);
      return bigger;
    };
    this.#occStart = grow(this.#occStart, (n) => new Int32Array(n));
    this.#occEnd = grow(this.#occEnd, (n) => new Int32Array(n));
    this.#occField = grow(this.#occField, (n) => new Uint8Array(n));
    this.#occNext = grow(this.#occNext, (n) => new Int32Array(n));
  }

  #occurs(pattern: number, fields: number): boolean {
    return this.#patternStamp[pattern] === this.#generation && ((this.#patternFields[pattern] as number) & fields) !== 0;
  }

  #holds(node: Compiled, fields: number): boolean {
    switch (node.kind) {
      case 'term':
        return this.#occurs(node.pattern, fields);
      case 'or':
        return node.items.some((item) => this.#holds(item, fields));
      case 'and':
        return node.all.every((item) => this.#holds(item, fields)) && !node.none.some((item) => this.#holds(item, fields));
      case 'title':
        return this.#holds(node.expr, fields & IN_TITLE);
      case 'near':
        return this.#near(node.left, node.right, node.distance, fields);
    }
  }

  /** Whether some occurrence of `left` and one of `right` in the same field have at most `distance` characters between them. */
  #near(left: number[], right: number[], distance: number, fields: number): boolean {
    for (const a of left) {
      if (!this.#occurs(a, fields)) continue;
      for (const b of right) {
        if (!this.#occurs(b, fields)) continue;
        for (let i = this.#patternHead[a] as number; i >= 0; i = this.#occNext[i] as number) {
          const field = this.#occField[i] as number;
          if ((field & fields) === 0) continue;
          for (let j = this.#patternHead[b] as number; j >= 0; j = this.#occNext[j] as number) {
            if (this.#occField[j] !== field) continue;
            const gap = Math.max(this.#occStart[i] as number, this.#occStart[j] as number) - Math.min(this.#occEnd[i] as number, this.#occEnd[j] as number);
            if (gap <= distance) return true;
          }
        }
      }
    }
    return false;
  }

  #hits(compiled: CompiledTopic, title: Normalized, text: Normalized): TermHit[] {
    const hits: TermHit[] = [];
    for (const term of compiled.terms) {
      if (!this.#occurs(term.pattern, term.fields)) continue;
      for (let i = this.#patternHead[term.pattern] as number; i >= 0; i = this.#occNext[i] as number) {
        const field = this.#occField[i] as number;
        if ((field & term.fields) === 0) continue;
        const range = originalRange(field === IN_TITLE ? title : text, this.#occStart[i] as number, this.#occEnd[i] as number);
        hits.push({ term: term.keyword, field: field === IN_TITLE ? 'title' : 'text', start: range.start, end: range.end, group: term.group });
      }
    }
    hits.sort((a, b) => (a.field === b.field ? a.start - b.start || b.end - a.end : a.field === 'title' ? -1 : 1));
    // A keyword inside a longer one of the same topic (工厂 in 化工厂) is one mention, not two.
    const kept: TermHit[] = [];
    let field: Field | undefined;
    let reach = -1;
    for (const hit of hits) {
      if (hit.field !== field) {
        field = hit.field;
        reach = -1;
      }
      if (hit.end <= reach) continue;
      kept.push(hit);
      reach = hit.end;
    }
    return kept;
  }
}

/** A topic's compiled form plus its required groups (pattern sets of which one each must occur). */
function compileTopic(topic: Topic, patternOf: (keyword: string) => number): { topic: CompiledTopic; required: number[][] } {
  const groups: string[] = [];
  const required: number[][] = [];
  const terms = new Map<number, CompiledTerm>();
  const addTerm = (keyword: string, fields: number, group: string): number => {
    const pattern = patternOf(keyword);
    const known = terms.get(pattern);
    if (known) known.fields |= fields;
    else terms.set(pattern, { pattern, keyword, fields, group });
    return pattern;
  };
  for (const group of GROUPS) {
    const keywords = topic[group];
    if (!keywords) continue;
    groups.push(group);
    required.push(keywords.map((k) => addTerm(k, ANYWHERE, group)));
  }
  let expr: Compiled | undefined;
  if (topic.expr !== undefined) {
    const parsed = parseExpr(topic.expr);
    if (!parsed.ok) throw new ShaobingError('SB_CONFIG_INVALID', `topic "${topic.id}": expr: ${parsed.error.message}`);
    const sets = requiredTermSets(parsed.expr);
    sets.forEach((set, k) => {
      const name = sets.length === 1 ? 'expr' : `expr.${k + 1}`;
      groups.push(name);
      required.push(set.map((term) => addTerm(term.keyword, 0, name)));
    });
    expr = compileExpr(parsed.expr, ANYWHERE, (keyword, fields) => addTerm(keyword, fields, 'expr'));
  }
  const exclude = (topic.exclude ?? []).map(patternOf);
  return { topic: { topic, groups, exclude, expr, terms: [...terms.values()].filter((t) => t.fields !== 0) }, required };
}

/**
 * Replaces keywords by pattern ids. `positive` registers a keyword with the fields where its
 * occurrences count for the topic; keywords after a "-" are registered with none, so they are
 * matched but never reported as hits.
 */
function compileExpr(node: ExprNode, fields: number, positive: (keyword: string, fields: number) => number): Compiled {
  switch (node.kind) {
    case 'term':
      return { kind: 'term', pattern: positive(node.keyword, fields) };
    case 'or':
      return { kind: 'or', items: node.items.map((item) => compileExpr(item, fields, positive)) };
    case 'and':
      return {
        kind: 'and',
        all: node.all.map((item) => compileExpr(item, fields, positive)),
        none: node.none.map((item) => compileExpr(item, 0, positive)),
      };
    case 'near':
      return {
        kind: 'near',
        left: node.left.map((t) => positive(t.keyword, fields)),
        right: node.right.map((t) => positive(t.keyword, fields)),
        distance: node.distance,
      };
    case 'title':
      return { kind: 'title', expr: compileExpr(node.expr, fields & IN_TITLE, positive) };
  }
}
