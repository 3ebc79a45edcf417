import { isShaobingError } from '../../core/errors';
import { createTokenizer, TOKENIZER_KINDS, type Token, type TokenizerKind } from '../../rules/tokenizer';

/** nodejieba compiles from source at install; where that failed only the default binding is tested. */
function installed(kind: TokenizerKind): boolean {
  if (kind !== 'nodejieba') return true;
  try {
    require.resolve('nodejieba');
    return true;
  } catch {
    return false;
  }
}

const KINDS = TOKENIZER_KINDS.filter(installed);

/** Offsets point into the original text, in order, without overlap, and cover every non-space character. */
function expectWellFormed(text: string, tokens: Token[]): void {
  let previousEnd = 0;
  for (const token of tokens) {
    expect(text.slice(token.start, token.end)).toBe(token.word);
    expect(token.start).toBeGreaterThanOrEqual(previousEnd);
    expect(token.word.trim()).toBe(token.word);
    expect(token.word).not.toBe('');
    previousEnd = token.end;
  }
  expect(tokens.map((t) => t.word).join('')).toBe(text.replace(/\s+/g, ''));
}

test('the default binding is @node-rs/jieba', () => {
  expect(createTokenizer().kind).toBe('node-rs-jieba');
});

test('an unknown binding is a configuration error', () => {
  let caught: unknown;
  try {
    createTokenizer('jieba-wasm' as TokenizerKind);
  } catch (err) {
    caught = err;
  }
  expect(isShaobingError(caught, 'SB_CONFIG_INVALID')).toBe(true);
});

describe.each(KINDS)('%s', (kind) => {
  const tokenizer = createTokenizer(kind);

  test('cuts Simplified Chinese into words with offsets', () => {
    const text = '南京市长江大桥今天恢复通车';
    const tokens = tokenizer.cut(text);
    expectWellFormed(text, tokens);
    expect(tokens.slice(0, 2)).toEqual([
      { word: '南京市', start: 0, end: 3 },
      { word: '长江大桥', start: 3, end: 7 },
    ]);
    expect(tokenizer.words(text)).toEqual(tokens.map((t) => t.word));
  });

  test('cuts Traditional Chinese through its Simplified form, keeping the Traditional words and offsets', () => {
    const text = '臺灣的天氣很好，我們都很開心';
    const tokens = tokenizer.cut(text);
    expectWellFormed(text, tokens);
    expect(tokens).toContainEqual({ word: '臺灣', start: 0, end: 2 });
    expect(tokens).toContainEqual({ word: '天氣', start: 3, end: 5 });
    expect(tokens).toContainEqual({ word: '我們', start: 8, end: 10 });
    expect(tokens).toContainEqual({ word: '開心', start: 12, end: 14 });
  });

  test('keeps Weibo emoticons whole', () => {
    const text = '今天加班到十点[泪][怒]好累啊[笑cry]';
    const tokens = tokenizer.cut(text);
    expectWellFormed(text, tokens);
    expect(tokens).toContainEqual({ word: '[泪]', start: 7, end: 10 });
    expect(tokens).toContainEqual({ word: '[怒]', start: 10, end: 13 });
    expect(tokens).toContainEqual({ word: '[笑cry]', start: 16, end: 22 });
  });

  test('handles Latin, digits, spaces and astral characters with exact offsets', () => {
    const text = '  iPhone 15 Pro 在Apple Store开卖了😀😀，价格7999元\n\t好贵';
    const tokens = tokenizer.cut(text);
    expectWellFormed(text, tokens);
    expect(tokens.slice(0, 3)).toEqual([
      { word: 'iPhone', start: 2, end: 8 },
      { word: '15', start: 9, end: 11 },
      { word: 'Pro', start: 12, end: 15 },
    ]);
    expect(tokens).toContainEqual({ word: 'Apple', start: 17, end: 22 });
    expect(tokens).toContainEqual({ word: '7999', start: 38, end: 42 });
  });

  test('never splits user words, in Simplified or Traditional text', () => {
    const own = createTokenizer(kind);
    own.addWords(['哨兵舆情', '小米', '华为手机']);
    expect(own.words('哨兵舆情系统今天上线')[0]).toBe('哨兵舆情');
    // Without the user word jieba reads 小米粥 (millet porridge) as one word.
    expect(tokenizer.words('小米粥很好喝')[0]).toBe('小米粥');
    expect(own.words('小米粥很好喝').slice(0, 2)).toEqual(['小米', '粥']);
    const traditional = '他買了華為手機';
    expect(own.cut(traditional)).toContainEqual({ word: '華為手機', start: 3, end: 7 });
  });

  test('user words belong to the tokenizer they were added to', () => {
    const own = createTokenizer(kind);
    own.addWords(['哨兵舆情']);
    expect(tokenizer.words('哨兵舆情系统')[0]).not.toBe('哨兵舆情');
  });

  test('empty and blank text give no tokens', () => {
    expect(tokenizer.cut('')).toEqual([]);
    expect(tokenizer.cut(' \n\t ')).toEqual([]);
  });

  test('offsets stay exact on random mixed text', () => {
    const pieces = ['我们', '臺灣', '開心', '好', '[泪]', '[哈哈]', '[', ']', 'abc', 'Q', '12', ' ', '\n', '，', '！', '😀', '𠀀', '銀行', 'ｆｕｌｌ', '—', '…'];
    let seed = 7;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 200; i++) {
      let text = '';
      const length = 1 + Math.floor(next() * 20);
      for (let k = 0; k < length; k++) text += pieces[Math.floor(next() * pieces.length)];
      expectWellFormed(text, tokenizer.cut(text));
    }
  });
});
