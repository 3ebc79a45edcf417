import { type ExprNode, parseExpr, requiredTermSets } from '../../rules/expr';

/** A compact, fully parenthesised rendering of the tree, to state precedence plainly. */
function show(node: ExprNode): string {
  switch (node.kind) {
    case 'term':
      return node.keyword;
    case 'or':
      return `(${node.items.map(show).join(' | ')})`;
    case 'and':
      return `(${[...node.all.map(show), ...node.none.map((n) => `NOT ${show(n)}`)].join(' AND ')})`;
    case 'near':
      return `near([${node.left.map(show).join(',')}], [${node.right.map(show).join(',')}], ${node.distance})`;
    case 'title':
      return `title:${show(node.expr)}`;
  }
}

function parsed(src: string): string {
  const result = parseExpr(src);
  if (!result.ok) throw new Error(`${result.error.message} at ${result.error.offset}`);
  return show(result.expr);
}

function error(src: string): { message: string; offset: number } {
  const result = parseExpr(src);
  if (result.ok) throw new Error(`parsed: ${show(result.expr)}`);
  return result.error;
}

describe('expression parser', () => {
  it('parses each operator', () => {
    expect(parsed('武汉|湖北')).toBe('(武汉 | 湖北)');
    expect(parsed('武汉+爆炸')).toBe('(武汉 AND 爆炸)');
    expect(parsed('爆炸-演练')).toBe('(爆炸 AND NOT 演练)');
    expect(parsed('(武汉|湖北)+(爆炸|起火)')).toBe('((武汉 | 湖北) AND (爆炸 | 起火))');
  });

  it('binds + and - tighter than |, left to right', () => {
    expect(parsed('a|b+c')).toBe('(a | (b AND c))');
    expect(parsed('a+b|c')).toBe('((a AND b) | c)');
    expect(parsed('a|b-c')).toBe('(a | (b AND NOT c))');
    expect(parsed('a-b+c')).toBe('(a AND c AND NOT b)');
    expect(parsed('a+b-c-d|e')).toBe('((a AND b AND NOT c AND NOT d) | e)');
    expect(parsed('(a|b)-c')).toBe('((a | b) AND NOT c)');
  });

  it('ignores whitespace between tokens', () => {
    expect(parsed('  ( 武汉 | 湖北 )  +  爆炸 ')).toBe('((武汉 | 湖北) AND 爆炸)');
  });

  it('reads quoted keywords with operator characters, spaces and escapes', () => {
    expect(parsed('"C++"+漏洞')).toBe('(C++ AND 漏洞)');
    expect(parsed('"new york"|"a\\"b"')).toBe('(new york | a"b)');
    expect(parsed('“G-20”+峰会')).toBe('(G-20 AND 峰会)');
  });

  it('accepts the full-width operators a Chinese input method types', () => {
    expect(parsed('（武汉｜湖北）＋爆炸－演练')).toBe('((武汉 | 湖北) AND 爆炸 AND NOT 演练)');
    expect(parsed('title：（爆炸）')).toBe('title:爆炸');
  });

  it('parses near() with keywords, groups and bare alternatives', () => {
    expect(parsed('near(化工厂, 爆炸, 20)')).toBe('near([化工厂], [爆炸], 20)');
    expect(parsed('near((化工|工厂), (爆炸|起火), 5)')).toBe('near([化工,工厂], [爆炸,起火], 5)');
    expect(parsed('near(化工|工厂, 爆炸, 0)+珠海')).toBe('(near([化工,工厂], [爆炸], 0) AND 珠海)');
    expect(parsed('NEAR (a, b, 3)')).toBe('near([a], [b], 3)');
  });

  it('keeps near and title as ordinary keywords where they are not operators', () => {
    expect(parsed('near+title')).toBe('(near AND title)');
  });

  it('parses title: over a keyword, a group or near()', () => {
    expect(parsed('title:爆炸')).toBe('title:爆炸');
    expect(parsed('title:(爆炸|起火)+珠海')).toBe('(title:(爆炸 | 起火) AND 珠海)');
    expect(parsed('title:near(a, b, 2)')).toBe('title:near([a], [b], 2)');
    expect(parsed('TITLE:(a)')).toBe('title:a');
  });

  it('lists the keyword sets the expression requires', () => {
    const result = parseExpr('(武汉|湖北)+near(工厂, 爆炸, 9)-演练');
    if (!result.ok) throw new Error(result.error.message);
    expect(requiredTermSets(result.expr).map((set) => set.map((t) => t.keyword))).toEqual([['武汉', '湖北'], ['工厂'], ['爆炸']]);
    const or = parseExpr('a+b|c');
    if (!or.ok) throw new Error(or.error.message);
    expect(requiredTermSets(or.expr).map((set) => set.map((t) => t.keyword))).toEqual([['a', 'b', 'c']]);
  });

  describe('errors point at the offending character', () => {
    it.each([
      ['', 0, 'empty'],
      ['武汉|', 3, 'expected a keyword'],
      ['(武汉|湖北+爆炸', 0, '"(" is never closed'],
      ['武汉)', 2, 'unmatched ")"'],
      ['武汉 爆炸', 3, 'expected an operator'],
      ['-演练', 0, '"-" needs a keyword before it'],
      ['a|-b', 2, '"-" needs a keyword before it'],
      ['"C++', 0, 'unterminated quoted keyword'],
      ['a+""', 2, 'empty quoted keyword'],
      ['()', 0, 'empty parentheses'],
      ['near(a, b)', 9, 'expected the "," after the second'],
      ['near(a, b, x)', 11, 'whole number'],
      ['near(a, b, 1.5)', 11, 'whole number'],
      ['near(a+c, b, 3)', 6, '"+" and "-" are not allowed'],
      ['near(a, b, 3', 12, 'expected ")" to close near'],
      ['near(a, b, 99999)', 11, 'above the maximum'],
      ['title:', 6, 'expected a keyword'],
    ])('%j → offset %i', (src, offset, message) => {
      const e = error(src);
      expect(e.message).toContain(message);
      expect(e.offset).toBe(offset);
    });
  });
});
