import { DEFAULT_LEVEL_POLICY, decideLevel, findSeverityWords, LevelPolicySchema } from '../../rules/level';
import { normalize } from '../../rules/normalize';
import { POSTS } from './fixtures';

describe('warning level', () => {
  it('stays at the base level when nothing applies', () => {
    expect(decideLevel({ base: 3, sentiment: -0.2 })).toEqual({ level: 3, steps: 0, reasons: ['专题基础等级：三级', '预警等级：三级'] });
  });

  it('raises for strong negativity, severity words, authority and spread, with a reason each', () => {
    const post = POSTS.wuhanCollapse;
    const severityWords = findSeverityWords(DEFAULT_LEVEL_POLICY, normalize(post.title).text, normalize(post.text).text);
    expect(severityWords.sort()).toEqual(['坍塌', '死亡'].sort());
    const decision = decideLevel({ base: 3, sentiment: -0.8, severityWords, source: '央视新闻', clusterSize: 60, reposts: 1500 });
    expect(decision.level).toBe(1);
    expect(decision.reasons).toEqual([
      '专题基础等级：三级',
      '情绪明显负面（-0.80 ≤ -0.6）：升 1 级',
      '含严重性词语：死亡（人员伤亡）；坍塌（爆炸火灾）：升 1 级',
      '来源权威：中央媒体（央视新闻）：升 1 级',
      '传播：相似报道 60 篇（≥ 50）、转发 1500 次（≥ 1000）：升 2 级',
      '合计升 5 级，按上限（最多升 2 级，最高一级）升 2 级',
      '预警等级：一级',
    ]);
  });

  it('takes the strongest spread signal, not their sum', () => {
    expect(decideLevel({ base: 3, sentiment: 0, clusterSize: 12, reposts: 1200, comments: 600, growthPerHour: 25 }).level).toBe(2);
  });

  it('uses the document tier before the source name', () => {
    expect(decideLevel({ base: 3, sentiment: 0, authorTier: 'ordinary', source: '人民日报' }).level).toBe(3);
    expect(decideLevel({ base: 3, sentiment: 0, authorTier: 'provincial' }).reasons).toContain('来源权威：省级媒体：升 1 级');
  });

  it('never goes past 一级 nor below the base', () => {
    expect(decideLevel({ base: 1, sentiment: -1, source: '新华社' }).level).toBe(1);
    expect(decideLevel({ base: 2, sentiment: 1 }).level).toBe(2);
  });

  it('follows a configured policy', () => {
    const policy = LevelPolicySchema.parse({
      max_steps: 1,
      negativity: { at: -0.3 },
      severity: [{ label: '食品安全', words: ['中毒'], steps: 2 }],
      spread: { reposts: [{ at: 10, steps: 1 }] },
    });
    expect(policy.tiers.central).toBe(1);
    expect(decideLevel({ base: 3, sentiment: -0.35 }, policy).level).toBe(2);
    const found = findSeverityWords(policy, normalize('学生集体中毒').text);
    expect(found).toEqual(['中毒']);
    expect(decideLevel({ base: 3, sentiment: 0, severityWords: found }, policy)).toMatchObject({ level: 2, steps: 1 });
  });

  it('rejects unknown keys and out-of-range steps', () => {
    expect(LevelPolicySchema.safeParse({ max_step: 1 }).success).toBe(false);
    expect(LevelPolicySchema.safeParse({ tiers: { central: 3 } }).success).toBe(false);
    expect(LevelPolicySchema.safeParse({ tier_sources: { national: ['x'] } }).success).toBe(false);
  });
});
