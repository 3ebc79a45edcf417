import { compileTopics } from '../../rules/matcher';
import { createSentimentAnalyzer } from '../../rules/sentiment';
import { createRuleStage } from '../../rules/stage';
import { POSTS, topic, wordSentiment } from './fixtures';

describe('rules stage', () => {
  const matcher = compileTopics([
    topic({ id: 'collapse', name: '建筑坍塌', subject: ['工地', '建筑'], event: ['坍塌', '塌陷'], level: 3 }),
    topic({ id: 'wuhan', name: '武汉动态', region: ['武汉'], alert_on: 'any', threshold: 0.2 }),
    topic({ id: 'strict', name: '高门槛', event: ['坍塌'], threshold: 0.95 }),
  ]);
  const stage = createRuleStage({ sentiment: wordSentiment });

  it('scores, takes sentiment around the hits and decides the level', () => {
    const results = stage.analyze(matcher, { ...POSTS.wuhanCollapse, source: '央视新闻', metrics: { reposts: 20 } }, { clusterSize: 3 }).topics;
    expect(results.map((r) => r.topic.id)).toEqual(['collapse', 'wuhan']);
    const [collapse] = results;
    expect(collapse?.score).toBeGreaterThanOrEqual(0.3);
    expect(collapse?.sentiment.label).toBe('negative');
    expect(collapse?.alert).toBe(true);
    // Base 三级, raised by negativity, severity words (死亡, 坍塌) and central media, capped at 2 steps.
    expect(collapse?.level).toBe(1);
    expect(collapse?.levelReasons.at(-1)).toBe('预警等级：一级');
    expect(collapse?.hits[0]).toEqual({ term: '建筑', field: 'title', start: 4, end: 6, group: 'subject' });
    // What a cluster-level decision needs later: the document's severity words and resolved tier.
    expect(collapse?.severityWords.sort()).toEqual(['坍塌', '死亡']);
    expect(collapse?.authorTier).toBe('central');
  });

  it('drops matches under the topic threshold', () => {
    expect(stage.analyze(matcher, { title: '', text: '路面发生坍塌' }).topics.map((r) => r.topic.id)).toEqual([]);
  });

  it('alerts on negative passages only, unless the topic says any', () => {
    const results = stage.analyze(matcher, { title: '武汉建筑工地坍塌', text: '无人受伤，施工秩序恢复正常。' }).topics;
    expect(results.map((r) => [r.topic.id, r.sentiment.label, r.alert])).toEqual([
      ['collapse', 'neutral', false],
      ['wuhan', 'neutral', true],
    ]);
  });

  it('scores the whole document’s sentiment with the shipped model, whether or not a topic matches', () => {
    const real = createRuleStage({ sentiment: createSentimentAnalyzer() });
    const unmatched = real.analyze(matcher, { title: '', text: '服务太差了，等了两个小时没人管，非常失望，再也不会来了。' });
    expect(unmatched.topics).toEqual([]);
    expect(unmatched.sentiment.label).toBe('negative');
    expect(real.analyze(matcher, { title: '', text: '环境干净，服务周到，非常满意，值得推荐！' }).sentiment.label).toBe('positive');
    const matched = real.analyze(matcher, { title: '武汉建筑工地坍塌', text: '事故造成多人被困，现场一片混乱，家属十分焦急。' });
    expect(matched.topics.map((t) => t.topic.id)).toContain('collapse');
    expect(matched.sentiment.score).toBeLessThan(0);
  });
});
