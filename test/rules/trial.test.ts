import { compileTopics } from '../../rules/matcher';
import type { Token, Tokenizer } from '../../rules/tokenizer';
import { createRuleTrial } from '../../rules/trial';
import { POSTS, topic, wordSentiment } from './fixtures';

const blast = topic({ id: 'blast', subject: ['化工厂', '石化'], event: ['爆炸'], exclude: ['演练'], threshold: 0.2 });
const strict = topic({ id: 'strict', subject: ['化工厂'], event: ['爆炸'], threshold: 0.99 });
const nearExpr = topic({ id: 'near', region: ['珠海'], expr: 'near(化工厂, 泄漏, 5)' });

describe('rule trial', () => {
  const trial = createRuleTrial({ sentiment: wordSentiment });

  it('returns what passed, and with belowThreshold also what matched under its threshold', () => {
    const matcher = compileTopics([blast, strict]);
    expect(trial.run(matcher, POSTS.zhuhaiBlast).topics.map((r) => [r.topic.id, r.passed])).toEqual([['blast', true]]);
    const all = trial.run(matcher, POSTS.zhuhaiBlast, { belowThreshold: true }).topics;
    expect(all.map((r) => [r.topic.id, r.passed])).toEqual([
      ['blast', true],
      ['strict', false],
    ]);
    expect(all[1]!.score).toBeLessThan(0.99);
  });

  it('feeds the level policy the metrics it is given', () => {
    const matcher = compileTopics([blast]);
    const quiet = trial.run(matcher, POSTS.zhuhaiBlast).topics[0]!;
    const viral = trial.run(matcher, { ...POSTS.zhuhaiBlast, metrics: { cluster_size: 60 } }).topics[0]!;
    expect(viral.level).toBeLessThan(quiet.level);
    expect(viral.levelReasons.join()).toContain('相似报道 60 篇');
  });

  it('explains a miss: the groups found and not found, and the excluded words that vetoed it', () => {
    const drill = { title: '化工厂应急演练', text: '市消防支队在一化工厂开展爆炸事故应急演练。' };
    const miss = trial.explainMiss(blast, drill);
    expect(miss.groups.map((g) => [g.group, g.found, g.hits.map((h) => h.term)])).toEqual([
      ['subject', true, ['化工厂', '化工厂']],
      ['event', true, ['爆炸']],
    ]);
    expect(miss.excluded.map((h) => [h.field, drill[h.field].slice(h.start, h.end), h.group])).toEqual([
      ['title', '演练', 'exclude'],
      ['text', '演练', 'exclude'],
    ]);

    const far = trial.explainMiss(nearExpr, { title: '', text: '珠海一化工厂今天发生了一起氯气泄漏' });
    expect(far.groups.map((g) => [g.group, g.found])).toEqual([
      ['region', true],
      ['expr', false],
    ]);
    expect(far.excluded).toEqual([]);
  });

  it('pins the tried topics\' keywords in the tokenizer once per matcher, and hands the stage its tokens', () => {
    const pinned: string[][] = [];
    const cut: string[] = [];
    const tokenizer: Tokenizer = {
      kind: 'node-rs-jieba',
      cut: (text: string): Token[] => {
        cut.push(text);
        return [...text].map((word, start) => ({ word, start, end: start + 1 }));
      },
      words: (text: string) => [...text],
      addWords: (words: string[]) => void pinned.push(words),
    };
    const withTokens = createRuleTrial({ sentiment: wordSentiment, tokenizer });
    const matcher = compileTopics([blast]);
    withTokens.run(matcher, POSTS.zhuhaiBlast);
    withTokens.run(matcher, POSTS.wuhanCollapse);
    expect(pinned).toEqual([['化工厂', '石化', '爆炸']]);
    expect(cut).toEqual([POSTS.zhuhaiBlast.title, POSTS.zhuhaiBlast.text, POSTS.wuhanCollapse.title, POSTS.wuhanCollapse.text]);
  });
});
