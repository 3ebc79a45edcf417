import { compileTopics, type MatchInput, type TopicHit } from '../../rules/matcher';
import { scoreRelevance } from '../../rules/relevance';
import { POSTS, topic } from './fixtures';

function hit(input: MatchInput, fields: Parameters<typeof topic>[0]): TopicHit {
  const [match] = compileTopics([topic(fields)]).match(input);
  if (!match) throw new Error('expected a match');
  return match;
}

describe('relevance', () => {
  it('weighs a title hit above a text hit', () => {
    const inTitle = scoreRelevance(hit({ title: '化工厂爆炸', text: '详情稍后' }, { id: 't', event: ['爆炸'] }));
    const inText = scoreRelevance(hit({ title: '快讯', text: '化工厂爆炸' }, { id: 't', event: ['爆炸'] }));
    expect(inTitle.score).toBeGreaterThan(inText.score);
  });

  it('saturates with repetition', () => {
    const score = (n: number): number => scoreRelevance(hit({ title: '', text: '爆炸，'.repeat(n) }, { id: 't', event: ['爆炸'] })).score;
    expect(score(2)).toBeGreaterThan(score(1));
    expect(score(2) - score(1)).toBeGreaterThan(score(20) - score(10));
    expect(score(50)).toBeLessThanOrEqual(1);
  });

  it('rewards covering more groups, and closeness between groups', () => {
    const text = '珠海一化工厂爆炸';
    const one = scoreRelevance(hit({ title: '', text }, { id: 't', event: ['爆炸'] }));
    const three = scoreRelevance(hit({ title: '', text }, { id: 't', region: ['珠海'], subject: ['化工厂'], event: ['爆炸'] }));
    expect(three.coverage).toBe(1);
    expect(one.coverage).toBeCloseTo(1 / 3);
    expect(three.score).toBeGreaterThan(one.score);
    const far = scoreRelevance(hit({ title: '', text: `珠海${'很'.repeat(200)}爆炸` }, { id: 't', region: ['珠海'], event: ['爆炸'] }));
    const near = scoreRelevance(hit({ title: '', text: '珠海爆炸' }, { id: 't', region: ['珠海'], event: ['爆炸'] }));
    expect(near.proximity).toBeCloseTo(1);
    expect(far.proximity).toBeLessThan(0.01);
    expect(near.score).toBeGreaterThan(far.score);
  });

  it('explains each hit, and the parts add up to the score', () => {
    const r = scoreRelevance(hit(POSTS.zhuhaiBlast, { id: 't', region: ['珠海'], subject: ['化工厂', '石化'], event: ['爆炸'] }));
    expect(r.terms.map((t) => `${t.field}:${t.term}×${t.count}`)).toEqual(
      expect.arrayContaining(['title:珠海×1', 'title:石化×1', 'title:爆炸×1', 'text:爆炸×2', 'text:珠海×2', 'text:化工厂×1']),
    );
    const sum = r.terms.reduce((s, t) => s + t.contribution, 0) + r.coverage * 0.3 + (r.proximity ?? 0) * 0.2;
    expect(sum).toBeCloseTo(r.score, 10);
    expect(r.reasons).toEqual(expect.arrayContaining(['标题命中“爆炸”1 次：+0.11', '覆盖 3 组关键词（地域词、主体词、事件词）：+0.30']));
    expect(r.reasons.at(-1)).toMatch(/^不同组关键词最近相隔 \d+ 字：\+0\.\d\d$/);
  });

  it('takes its options', () => {
    const match = hit({ title: '', text: '爆炸' }, { id: 't', event: ['爆炸'] });
    expect(scoreRelevance(match, { textWeight: 2 }).score).toBeGreaterThan(scoreRelevance(match).score);
  });
});
