import { isShaobingError } from '../../core/errors';
import { projectPath } from '../../core/paths';
import { createSentimentAnalyzer, type SentimentAnalyzerOptions } from '../../rules/sentiment';
import { type FeatureSink, prepareText, sentenceFeatures, shapeBucket, SOCIAL_POST, textShape, WordTable } from '../../rules/sentiment/features';
import { loadLexicon } from '../../rules/sentiment/lexicon';
import { loadModel } from '../../rules/sentiment/model-file';
import { createTokenizer } from '../../rules/tokenizer';

const tokenizer = createTokenizer();
const analyzer = createSentimentAnalyzer({ tokenizer });
const score = (text: string): number => analyzer.score(text).score;

/** The span of the first occurrence of `word` in `text`. */
function spanOf(text: string, word: string): { start: number; end: number } {
  const start = text.indexOf(word);
  if (start < 0) throw new Error(`${word} is not in ${text}`);
  return { start, end: start + word.length };
}

describe('score', () => {
  test('reads clear praise and clear complaints', () => {
    expect(analyzer.score('这家酒店服务很好，房间干净，下次还来')).toMatchObject({ label: 'positive' });
    expect(analyzer.score('服务态度很差，房间又脏又小，再也不来了')).toMatchObject({ label: 'negative' });
    expect(score('这家酒店服务很好，房间干净，下次还来')).toBeLessThanOrEqual(1);
    expect(score('服务态度很差，房间又脏又小，再也不来了')).toBeGreaterThanOrEqual(-1);
  });

  test('negation turns a word around', () => {
    expect(score('我喜欢这部手机')).toBeGreaterThan(0);
    expect(score('我不喜欢这部手机')).toBeLessThan(0);
    expect(score('这部手机的质量好')).toBeGreaterThan(score('这部手机的质量不好'));
    expect(score('这部手机的质量不好')).toBeLessThan(0);
    expect(score('屏幕不是很清晰')).toBeLessThan(0);
  });

  test('a strong degree adverb weighs more than a weak one', () => {
    for (const word of ['满意', '好用', '失望']) {
      expect(Math.abs(score(`房间非常${word}`))).toBeGreaterThan(Math.abs(score(`房间有点${word}`)));
    }
  });

  test('after a contrast conjunction the second clause decides', () => {
    expect(score('虽然价格有点贵，但是质量非常好')).toBeGreaterThan(0);
    // The same words in the other order: whichever clause follows 但是 pulls the score its way.
    expect(score('服务很差，但是环境不错')).toBeGreaterThan(score('环境不错，但是服务很差'));
    expect(score('环境不错，但是服务很差')).toBeLessThan(0);
  });

  test('Weibo emoticons carry sentiment', () => {
    expect(score('今天又要加班[怒]')).toBeLessThan(score('今天又要加班'));
    expect(score('今天又要加班[哈哈]')).toBeGreaterThan(score('今天又要加班'));
    expect(analyzer.score('明天放假了[泪]').label).toBe('negative');
    expect(analyzer.score('明天放假了[哈哈]').label).toBe('positive');
  });

  test('Traditional text scores like its Simplified form', () => {
    expect(analyzer.score('這家酒店服務很好，房間乾淨').label).toBe('positive');
    expect(analyzer.score('服務態度很差，再也不來了').label).toBe('negative');
  });

  test('nothing to read is neutral', () => {
    expect(analyzer.score('')).toEqual({ score: 0, label: 'neutral' });
    expect(analyzer.score('   ')).toEqual({ score: 0, label: 'neutral' });
  });

  test('tokens passed in give the same result as cutting inside', () => {
    const text = '物流很快，包装也很用心，好评！';
    expect(analyzer.score(text, tokenizer.cut(text))).toEqual(analyzer.score(text));
  });

  test('the neutral band is an option', () => {
    const wide = createSentimentAnalyzer({ tokenizer, neutralBand: 1 });
    expect(wide.score('我不喜欢这部手机').label).toBe('neutral');
  });
});

describe('scoreAround', () => {
  const rival = '某竞品手机的电池质量太差了，发热严重，用户投诉不断，售后也很糟糕。';
  const ours = '哨兵手机的新款非常好用，大家都很喜欢。';

  test('is negative about the rival and positive about us in the same article', () => {
    const text = rival + ours;
    expect(analyzer.scoreAround(text, [spanOf(text, '哨兵手机')]).label).toBe('positive');
    expect(analyzer.scoreAround(text, [spanOf(text, '竞品')]).label).toBe('negative');
  });

  test('sentences beyond the neighbours do not count at all', () => {
    const filler = '记者今天走访了多家门店。店员介绍了近期的销售情况。';
    const text = rival + filler + ours;
    const around = analyzer.scoreAround(text, [spanOf(text, '哨兵手机')]);
    const withoutRival = filler + ours;
    expect(around).toEqual(analyzer.scoreAround(withoutRival, [spanOf(withoutRival, '哨兵手机')]));
  });

  test('when the hit sentence says little, its neighbours decide', () => {
    const text = '哨兵手机昨天发布了新款。用户纷纷吐槽电池太差，发热严重。';
    const spans = [spanOf(text, '哨兵手机')];
    expect(analyzer.scoreAround(text, spans).label).toBe('negative');
    const hitOnly = createSentimentAnalyzer({ tokenizer, contextSentences: 0 }).scoreAround(text, spans);
    expect(hitOnly.label).toBe('neutral');
    expect(createSentimentAnalyzer({ tokenizer, contextWeight: 0 }).scoreAround(text, spans)).toEqual(hitOnly);
  });

  test('no span inside the text is neutral', () => {
    expect(analyzer.scoreAround(rival, [])).toEqual({ score: 0, label: 'neutral' });
    expect(analyzer.scoreAround(rival, [{ start: 500, end: 504 }])).toEqual({ score: 0, label: 'neutral' });
  });
});

describe('read', () => {
  const title = '哨兵手机发布新款';
  const body = '某竞品手机的电池质量太差了，发热严重。\n哨兵手机的新款非常好用，大家都很喜欢。';
  const joined = `${title}\n${body}`;

  test('reads parts as the text they make joined by a line break, without joining them', () => {
    const read = analyzer.read([
      { text: title, tokens: tokenizer.cut(title) },
      { text: body, tokens: tokenizer.cut(body), simplified: true },
    ]);
    expect(read.score()).toEqual(analyzer.score(joined));
    for (const word of ['竞品', '哨兵手机', '发布']) {
      const span = spanOf(joined, word);
      expect(read.scoreAround([span])).toEqual(analyzer.scoreAround(joined, [span]));
    }
    // Parts without tokens are cut; an empty part adds nothing.
    expect(analyzer.read([{ text: '' }, { text: body }]).score()).toEqual(analyzer.score(body));
  });

  test('a text read before the word table starts again still scores the same', () => {
    const fresh = createSentimentAnalyzer({ tokenizer });
    const read = fresh.read([{ text: body }]);
    // Enough distinct words to make the table start again (it keeps 50,000).
    for (let i = 0; i < 6; i++) fresh.score(Array.from({ length: 10_000 }, (_, k) => `词${i}x${k}`).join(' '));
    expect(read.score()).toEqual(analyzer.score(body));
  });
});

describe('word table', () => {
  const dir = projectPath('rules', 'sentiment', 'model');
  const model = loadModel(dir);

  test('tells apart keys that share their first code units, their hash slot or a NUL', () => {
    const table = new WordTable(loadLexicon(dir), model.features, model.weights);
    const keys = ['a', 'a\u0000', 'ab', '中华人民', '中华人民共和国', '中华人民共和', '好', '好好', '[哈哈]', 'Ａ'];
    const ids = keys.map((key) => table.get(key));
    expect(new Set(ids).size).toBe(keys.length);
    expect(keys.map((key) => table.get(key))).toEqual(ids);
    expect(keys.map((key, i) => table.word(ids[i] as number).key)).toEqual(keys);
    // The folded text the features see.
    expect(table.word(table.get('Ａ')).text).toBe('a');
  });
});

describe('options and loading', () => {
  test('unknown or out-of-range options are configuration errors', () => {
    for (const options of [{ neutralBand: 2 }, { contextSentence: 1 }, { contextWeight: -1 }]) {
      let caught: unknown;
      try {
        createSentimentAnalyzer(options as SentimentAnalyzerOptions);
      } catch (err) {
        caught = err;
      }
      expect(isShaobingError(caught, 'SB_CONFIG_INVALID')).toBe(true);
    }
  });

  test('a missing model folder says what is missing', () => {
    let caught: unknown;
    try {
      createSentimentAnalyzer({ modelDir: '/nonexistent/model' });
    } catch (err) {
      caught = err;
    }
    expect(isShaobingError(caught, 'SB_CONFIG_NOT_FOUND')).toBe(true);
    expect((caught as Error).message).toContain('/nonexistent/model');
  });

  test('the shipped model loads quickly', () => {
    const started = Date.now();
    createSentimentAnalyzer({ tokenizer });
    // ~60 ms here; the bound leaves room for a busy CI machine.
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('features', () => {
  test('a text’s shape is told by its social-media markup, not its length', () => {
    for (const post of ['今天又要加班[怒]', '#两会#代表建议', '回复@某人:同意', '转发//@央视新闻:好消息', '看这里 https://t.cn/abc', '心情不错 \u200b']) {
      expect(textShape(post)).toBe(SOCIAL_POST);
    }
    for (const plain of ['房间很干净，服务也好，下次还来。', '价格（不含税）另计', '习近平春节前夕在北京看望慰问基层干部群众']) {
      expect(textShape(plain)).not.toBe(SOCIAL_POST);
    }
  });

  test('the scorer, with its sums per word, gives what every feature spelled out gives', () => {
    // The training path: each feature and each shape copy one by one, against the shipped weights.
    const dir = projectPath('rules', 'sentiment', 'model');
    const model = loadModel(dir);
    const table = new WordTable(loadLexicon(dir), model.features);
    const mask = (1 << model.features.hashBits) - 1;
    const texts = [
      '虽然价格有点贵，但是质量非常好！不过物流太慢了。',
      '今天又要加班[怒] #打工人# 不想上班',
      '這家酒店服務很好，房間乾淨',
      '屏幕不是很清晰\n电池也不太耐用',
    ];
    for (const text of texts) {
      const prepared = prepareText(text, tokenizer.cut(text), table);
      let dot = 0;
      let squares = 0;
      const add = (index: number, value: number): void => {
        dot += (model.weights[index] as number) * value;
        squares += value * value;
      };
      const wordLevel = (index: number, value: number): void => {
        add(index, value);
        if (model.features.shapeView) add(shapeBucket(index, prepared.shape, mask), value);
      };
      const sink: FeatureSink = {
        feature: add,
        word: (id: number, value: number) => wordLevel(table.word(id).index, value),
        inner: (id: number, value: number) => table.word(id).inner.forEach((index) => wordLevel(index, value)),
      };
      for (let s = 0; s < prepared.sentenceEnds.length; s++) sentenceFeatures(prepared, s, sink);
      expect(analyzer.score(text).score).toBeCloseTo(Math.tanh((model.bias + dot / Math.sqrt(squares)) / 2), 10);
    }
  });
});
