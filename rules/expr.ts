/**
 * The advanced keyword expression of a topic, in the syntax 舆情 analysts already write:
 *
 *   (武汉|湖北)+(爆炸|起火)-演练
 *   near((化工厂|工厂), 爆炸, 20) | title:(爆炸+死亡)
 *   "C++"+漏洞
 *
 * Operators, loosest first:
 *
 *   a | b          either occurs
 *   a + b, a - b   both occur; a occurs and b does not. `+` and `-` bind equally tightly and
 *                  left to right, and tighter than `|`: `a|b+c-d` is `a | (b and c and not d)`,
 *                  the usual "and before or" of boolean algebra and of search engines.
 *   near(X, Y, N)  an occurrence of X and one of Y, in the same field, with at most N characters
 *                  between them (in either order; overlapping counts as 0). X and Y are keywords
 *                  or `|` groups of keywords, parenthesised or not.
 *   title:P        P counts only what occurs in the title. P is a keyword, a (group) or near(…).
 *   ( … )          grouping.
 *
 * A keyword is any run of characters other than whitespace and `( ) | + - , "`; a keyword
 * containing one of those is written in double quotes, with `\"` and `\\` inside. Whitespace only
 * separates: two keywords with nothing between them are an error, not an implicit "and", because
 * analysts mean different things by it. The full-width forms of the operators that a Chinese input
 * method produces（（ ） ｜ ＋ － ， ： and “ ” quotes）are accepted as the operators.
 *
 * There is no unary "not": every expression needs some keyword to occur, which is what lets the
 * matcher look only at topics whose keywords were seen.
 */

export interface Span {
  /** Offsets in the expression string, in UTF-16 code units; `end` exclusive. */
  start: number;
  end: number;
}

export interface TermNode extends Span {
  kind: 'term';
  /** As written, unquoted and unescaped. */
  keyword: string;
}
export interface OrNode extends Span {
  kind: 'or';
  items: ExprNode[];
}
export interface AndNode extends Span {
  kind: 'and';
  /** Must all hold. */
  all: ExprNode[];
  /** Must all fail. */
  none: ExprNode[];
}
export interface NearNode extends Span {
  kind: 'near';
  left: TermNode[];
  right: TermNode[];
  /** Most characters allowed between the two occurrences. */
  distance: number;
}
export interface TitleNode extends Span {
  kind: 'title';
  expr: ExprNode;
}
export type ExprNode = TermNode | OrNode | AndNode | NearNode | TitleNode;

export interface ExprError {
  message: string;
  /** Where in the expression, in UTF-16 code units. */
  offset: number;
}

export type ParsedExpr = { ok: true; expr: ExprNode } | { ok: false; error: ExprError };

/** Largest `near` distance: beyond a few thousand characters "near" stops meaning anything. */
export const MAX_NEAR_DISTANCE = 10_000;

type TokenKind = '(' | ')' | '|' | '+' | '-' | ',' | 'word' | 'quoted' | 'near' | 'title' | 'end';

interface Token extends Span {
  kind: TokenKind;
  text: string;
}

const OPERATORS: Record<string, TokenKind> = {
  '(': '(', ')': ')', '|': '|', '+': '+', '-': '-', ',': ',',
  '（': '(', '）': ')', '｜': '|', '＋': '+', '－': '-', '，': ',',
};
const OPEN_QUOTES = new Set(['"', '“', '＂']);
const CLOSE_QUOTES: Record<string, string> = { '"': '"', '“': '”', '＂': '＂' };
const WHITESPACE = /\s/;
const TITLE_PREFIX = /^title[:：]/i;

class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'word':
    case 'quoted':
      return `keyword "${token.text}"`;
    case 'near':
      return 'near(';
    case 'title':
      return 'title:';
    default:
      return `"${token.text}"`;
  }
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] as string;
    if (WHITESPACE.test(ch)) {
      i++;
      continue;
    }
    const op = OPERATORS[ch];
    if (op) {
      tokens.push({ kind: op, text: ch, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (OPEN_QUOTES.has(ch)) {
      const close = CLOSE_QUOTES[ch] as string;
      let text = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== close; j++) {
        if (src[j] === '\\' && (src[j + 1] === close || src[j + 1] === '\\')) j++;
        text += src[j];
      }
      if (j >= src.length) throw new ExprSyntaxError(`unterminated quoted keyword (no closing ${close})`, i);
      if (text.trim() === '') throw new ExprSyntaxError('empty quoted keyword', i);
      tokens.push({ kind: 'quoted', text, start: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < src.length && !WHITESPACE.test(src[j] as string) && !OPERATORS[src[j] as string] && !OPEN_QUOTES.has(src[j] as string)) j++;
    const word = src.slice(i, j);
    const title = TITLE_PREFIX.exec(word);
    if (title) {
      tokens.push({ kind: 'title', text: title[0], start: i, end: i + title[0].length });
      i += title[0].length;
      continue;
    }
    let k = j;
    while (k < src.length && WHITESPACE.test(src[k] as string)) k++;
    const opensGroup = OPERATORS[src[k] as string] === '(';
    tokens.push({ kind: word.toLowerCase() === 'near' && opensGroup ? 'near' : 'word', text: word, start: i, end: j });
    i = j;
  }
  tokens.push({ kind: 'end', text: '', start: src.length, end: src.length });
  return tokens;
}

class Parser {
  #at = 0;

  constructor(readonly tokens: Token[]) {}

  #peek(): Token {
    return this.tokens[this.#at] as Token;
  }

  #next(): Token {
    return this.tokens[this.#at++] as Token;
  }

  #expect(kind: TokenKind, what: string): Token {
    const token = this.#peek();
    if (token.kind !== kind) throw new ExprSyntaxError(`expected ${what}, found ${describe(token)}`, token.start);
    return this.#next();
  }

  parse(): ExprNode {
    if (this.#peek().kind === 'end') throw new ExprSyntaxError('the expression is empty', 0);
    const expr = this.#or();
    const rest = this.#peek();
    if (rest.kind === ')') throw new ExprSyntaxError('unmatched ")"', rest.start);
    if (rest.kind !== 'end') {
      throw new ExprSyntaxError(
        `expected an operator (| + -) before ${describe(rest)}; put a keyword with spaces or operators in double quotes`,
        rest.start,
      );
    }
    return expr;
  }

  #or(): ExprNode {
    const items = [this.#and()];
    while (this.#peek().kind === '|') {
      this.#next();
      items.push(this.#and());
    }
    return items.length === 1 ? (items[0] as ExprNode) : { kind: 'or', items, start: (items[0] as ExprNode).start, end: (items.at(-1) as ExprNode).end };
  }

  #and(): ExprNode {
    if (this.#peek().kind === '-') {
      throw new ExprSyntaxError('"-" needs a keyword before it: a-b means a and not b', this.#peek().start);
    }
    const first = this.#primary();
    const all = [first];
    const none: ExprNode[] = [];
    while (this.#peek().kind === '+' || this.#peek().kind === '-') {
      const op = this.#next();
      (op.kind === '+' ? all : none).push(this.#primary());
    }
    if (all.length === 1 && none.length === 0) return first;
    const last = this.tokens[this.#at - 1] as Token;
    return { kind: 'and', all, none, start: first.start, end: last.end };
  }

  #primary(): ExprNode {
    const token = this.#peek();
    switch (token.kind) {
      case 'word':
      case 'quoted':
        this.#next();
        return { kind: 'term', keyword: token.text, start: token.start, end: token.end };
      case '(': {
        this.#next();
        if (this.#peek().kind === ')') throw new ExprSyntaxError('empty parentheses', token.start);
        const inner = this.#or();
        if (this.#peek().kind !== ')') throw new ExprSyntaxError(`"(" is never closed (found ${describe(this.#peek())})`, token.start);
        this.#next();
        return inner;
      }
      case 'near':
        return this.#near();
      case 'title': {
        this.#next();
        const inner = this.#primary();
        return { kind: 'title', expr: inner, start: token.start, end: inner.end };
      }
      default:
        throw new ExprSyntaxError(`expected a keyword, "(" or near(…), found ${describe(token)}`, token.start);
    }
  }

  #near(): NearNode {
    const start = this.#next().start;
    this.#expect('(', '"(" after near');
    const left = this.#nearArgument();
    this.#expect(',', 'the "," after the first near() argument: near(X, Y, N)');
    const right = this.#nearArgument();
    this.#expect(',', 'the "," after the second near() argument: near(X, Y, N)');
    const n = this.#peek();
    if (n.kind !== 'word' || !/^\d+$/.test(n.text)) {
      throw new ExprSyntaxError(`near() distance must be a whole number of characters, found ${describe(n)}`, n.start);
    }
    const distance = Number(n.text);
    if (distance > MAX_NEAR_DISTANCE) throw new ExprSyntaxError(`near() distance ${distance} is above the maximum of ${MAX_NEAR_DISTANCE}`, n.start);
    this.#next();
    const close = this.#expect(')', '")" to close near(X, Y, N)');
    return { kind: 'near', left, right, distance, start, end: close.end };
  }

  /** A keyword, or keywords joined by `|`, possibly in parentheses. */
  #nearArgument(): TermNode[] {
    const terms = [...this.#nearAlternative()];
    while (this.#peek().kind === '|') {
      this.#next();
      terms.push(...this.#nearAlternative());
    }
    const after = this.#peek();
    if (after.kind === '+' || after.kind === '-') {
      throw new ExprSyntaxError('near() arguments are keywords or (a|b) groups; "+" and "-" are not allowed inside', after.start);
    }
    return terms;
  }

  #nearAlternative(): TermNode[] {
    const token = this.#peek();
    if (token.kind === 'word' || token.kind === 'quoted') {
      this.#next();
      return [{ kind: 'term', keyword: token.text, start: token.start, end: token.end }];
    }
    if (token.kind === '(') {
      this.#next();
      const terms = this.#nearArgument();
      if (this.#peek().kind !== ')') throw new ExprSyntaxError(`"(" is never closed (found ${describe(this.#peek())})`, token.start);
      this.#next();
      return terms;
    }
    throw new ExprSyntaxError(`near() arguments are keywords or (a|b) groups, found ${describe(token)}`, token.start);
  }
}

/** Parses an expression; errors carry the offset of the offending character. */
export function parseExpr(src: string): ParsedExpr {
  try {
    return { ok: true, expr: new Parser(tokenize(src)).parse() };
  } catch (err) {
    if (err instanceof ExprSyntaxError) return { ok: false, error: { message: err.message, offset: err.offset } };
    throw err;
  }
}

/** Every keyword of the expression, in order of appearance. */
export function exprTerms(node: ExprNode): TermNode[] {
  switch (node.kind) {
    case 'term':
      return [node];
    case 'or':
      return node.items.flatMap(exprTerms);
    case 'and':
      return [...node.all, ...node.none].flatMap(exprTerms);
    case 'near':
      return [...node.left, ...node.right];
    case 'title':
      return exprTerms(node.expr);
  }
}

/**
 * Keyword sets of which, for the expression to hold, at least one keyword each must occur: the
 * conjuncts of a top-level "and" (a near() counts as two), or else all the expression's positive
 * keywords together. The matcher uses them to skip topics cheaply; relevance counts them as the
 * expression's groups.
 */
export function requiredTermSets(node: ExprNode): TermNode[][] {
  switch (node.kind) {
    case 'and':
      return node.all.flatMap(requiredTermSets);
    case 'near':
      return [node.left, node.right];
    case 'title':
      return requiredTermSets(node.expr);
    default:
      return [positiveTerms(node)];
  }
}

/** Keywords whose occurrence can help the expression hold (all but those after a "-"). */
export function positiveTerms(node: ExprNode): TermNode[] {
  switch (node.kind) {
    case 'term':
      return [node];
    case 'or':
      return node.items.flatMap(positiveTerms);
    case 'and':
      return node.all.flatMap(positiveTerms);
    case 'near':
      return [...node.left, ...node.right];
    case 'title':
      return positiveTerms(node.expr);
  }
}
