import { isSimplified, normalize, normalizeKeyword, originalRange, toSimplified } from '../../rules/normalize';
import { POSTS } from './fixtures';

/** The original text behind normalised [start, end). */
function back(source: string, start: number, end: number): string {
  const n = normalize(source);
  const range = originalRange(n, start, end);
  return source.slice(range.start, range.end);
}

describe('normalize', () => {
  it('folds Traditional to Simplified without moving offsets', () => {
    const source = '廣東珠海高欄港一化工廠發生爆炸';
    const n = normalize(source);
    expect(n.text).toBe('广东珠海高栏港一化工厂发生爆炸');
    const at = n.text.indexOf('化工厂');
    expect(back(source, at, at + 3)).toBe('化工廠');
  });

  it('folds full-width letters, digits and punctuation, and the ideographic space', () => {
    const source = '深圳地铁将设立ＶＩＰ头等车厢　买双倍票可享坐票，２０１２年';
    const n = normalize(source);
    expect(n.text).toBe('深圳地铁将设立vip头等车厢 买双倍票可享坐票,2012年');
    const at = n.text.indexOf('vip');
    expect(back(source, at, at + 3)).toBe('ＶＩＰ');
    const year = n.text.indexOf('2012');
    expect(back(source, year, year + 4)).toBe('２０１２');
  });

  it('case-folds Latin and keeps offsets on mixed text', () => {
    const source = 'iPanda熊猫频道 发布 CCTV News';
    const n = normalize(source);
    expect(n.text).toBe('ipanda熊猫频道 发布 cctv news');
    const at = n.text.indexOf('cctv news');
    expect(back(source, at, at + 'cctv news'.length)).toBe('CCTV News');
  });

  it('collapses whitespace runs to one space and maps ranges across them', () => {
    const source = '武汉\n\n  一建筑工地\t坍塌';
    const n = normalize(source);
    expect(n.text).toBe('武汉 一建筑工地 坍塌');
    expect(n.origin.length).toBe(n.text.length + 1);
    expect(n.origin[n.text.length]).toBe(source.length);
    const at = n.text.indexOf('汉 一');
    expect(back(source, at, at + 3)).toBe('汉\n\n  一');
    const leading = '\u200b \t武汉';
    expect(normalize(leading).text).toBe(' 武汉');
    expect(back(leading, 1, 3)).toBe('武汉');
  });

  it('drops zero-width characters, so a keyword split by one still matches', () => {
    const source = '化工厂发生爆\u200b炸';
    const n = normalize(source);
    expect(n.text).toBe('化工厂发生爆炸');
    expect(back(source, 5, 7)).toBe('爆\u200b炸');
  });

  it('maps expansions and surrogate pairs back to whole original characters', () => {
    const source = '重5㎏🙂爆炸';
    const n = normalize(source);
    expect(n.text).toBe('重5kg🙂爆炸');
    expect(back(source, 2, 3)).toBe('㎏'); // half of "kg" still highlights the whole ㎏
    const emoji = n.text.indexOf('🙂');
    expect(back(source, emoji, emoji + 1)).toBe('🙂');
    const blast = n.text.indexOf('爆炸');
    expect(back(source, blast, blast + 2)).toBe('爆炸');
  });

  it('leaves normalised text unchanged when normalised again', () => {
    for (const post of Object.values(POSTS)) {
      const once = normalize(post.text).text;
      expect(normalize(once).text).toBe(once);
    }
  });

  it('normalises keywords like text, trimmed', () => {
    expect(normalizeKeyword('  武漢 ')).toBe('武汉');
    expect(normalizeKeyword('Ｃ＋＋')).toBe('c++');
    expect(normalizeKeyword('\u200b')).toBe('');
  });
});

describe('toSimplified', () => {
  it('converts Traditional text and keeps its length', () => {
    const source = '臺灣的軟體工程師說這個發現很重要';
    const out = toSimplified(source);
    expect(out).toHaveLength(source.length);
    expect(out).toBe('台湾的软体工程师说这个发现很重要');
  });

  it('returns Simplified text as it is, including words whose Taiwan forms round-trip (什么, 才)', () => {
    for (const post of Object.values(POSTS)) expect(toSimplified(post.text)).toBe(post.text);
    expect(toSimplified('你在说什么？人才难得')).toBe('你在说什么？人才难得');
  });

  it('agrees with OpenCC itself, which it skips only where OpenCC would change nothing', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const opencc = (require('opencc-js/t2cn') as { Converter(o: object): (s: string) => string }).Converter({ from: 'tw', to: 'cn' });
    const texts = ['天氣乾燥', '效果顯著', '他一坏土', '什么些族', '怎么么麼', '才纔', '人才著作', ...Object.values(POSTS).map((p) => p.text)];
    for (const text of texts) expect(toSimplified(text)).toBe(opencc(text));
  });
});

describe('isSimplified', () => {
  it('tells from a normalisation that the source needs no converting, and never wrongly', () => {
    const texts = [
      '武汉市今天发生了一起事故',
      'ＡＢＣ，全角字母和标点\u200b',
      '這家酒店服務很好',
      '天氣乾燥',
      '\uf900有此理', // a CJK compatibility ideograph, which folds to 豈
      '\uf902車',
      ...Object.values(POSTS).map((p) => p.text),
    ];
    for (const text of texts) {
      if (isSimplified(normalize(text))) expect(toSimplified(text)).toBe(text);
    }
    expect(isSimplified(normalize('武汉市今天发生了一起事故'))).toBe(true);
    expect(isSimplified(normalize('這家酒店服務很好'))).toBe(false);
    expect(isSimplified(normalize('\uf902車'))).toBe(false);
  });
});
