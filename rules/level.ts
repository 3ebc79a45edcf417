import { z } from 'zod';
import { AUTHOR_TIERS, AuthorTier as AuthorTierSchema, type Level } from '../core/records';
import { AhoCorasick } from './aho-corasick';
import { normalizeKeyword } from './normalize';

/**
 * The warning level (预警等级) of a match: the topic's base level, raised toward 一级 by a
 * configurable policy, with each reason written out for the alert.
 *
 * Each rule below adds steps; the total is capped by `max_steps`, and a level never goes above
 * 一级 nor below the topic's base:
 *
 * - negativity: the matched passage's sentiment is at or below `negativity.at` (−1 … 0);
 * - severity: the document contains a severity word (deaths, explosions, mass incidents,
 *   poisoning…); the steps are those of the most severe category found;
 * - authority: the source's tier (central media … ordinary accounts), taken from the document or
 *   found by source name in `tier_sources`;
 * - spread: the size of the near-duplicate cluster, reposts, comments or growth per hour; the
 *   steps are those of the strongest of the four (one viral story should not count four times).
 */

const Steps = z.int().min(0).max(2);
const Threshold = z.strictObject({
  /** The indicator reaches this value or more… */
  at: z.number().min(0),
  /** …to raise the level by this many steps. */
  steps: Steps,
});
/** Sorted thresholds; the highest one reached applies. */
const Thresholds = z.array(Threshold).transform((list) => [...list].sort((a, b) => a.at - b.at));

const SeverityCategory = z.strictObject({
  /** Shown in the reason, e.g. 人员伤亡. */
  label: z.string().min(1),
  words: z.array(z.string().min(1)).min(1),
  steps: Steps.default(1),
});

export const LevelPolicySchema = z.strictObject({
  /** Most steps the policy may raise a base level by, in total: 2 lets a 三级 topic reach 一级. */
  max_steps: Steps.default(2),
  negativity: z
    .strictObject({
      at: z.number().min(-1).max(0).default(-0.6),
      steps: Steps.default(1),
    })
    .prefault({}),
  severity: z.array(SeverityCategory).default([
    { label: '人员伤亡', words: ['死亡', '身亡', '遇难', '丧生', '罹难', '死伤', '伤亡', '重伤', '失踪', '遗体'], steps: 1 },
    { label: '爆炸火灾', words: ['爆炸', '爆燃', '大火', '火灾', '坍塌', '垮塌'], steps: 1 },
    { label: '群体性事件', words: ['群体性事件', '围堵', '冲突', '打砸', '罢工', '堵路', '维权', '上访'], steps: 1 },
    { label: '中毒污染', words: ['中毒', '投毒', '泄漏', '污染'], steps: 1 },
    { label: '公共安全', words: ['踩踏', '袭击', '持刀', '枪击', '劫持', '砍人'], steps: 1 },
  ]),
  /** Steps by the source's authority tier. */
  tiers: z
    .strictObject({
      central: Steps.default(1),
      provincial: Steps.default(1),
      local: Steps.default(0),
      verified: Steps.default(0),
      ordinary: Steps.default(0),
    })
    .prefault({}),
  /** Source names by tier, for documents that do not carry `author_tier`; a source containing a name is in that tier. */
  tier_sources: z.partialRecord(AuthorTierSchema, z.array(z.string().min(1))).default({
    central: [
      '人民日报', '人民网', '新华社', '新华网', '新华视点', '央视新闻', '央视网', '中央电视台', 'CCTV', '中央广播电视总台',
      '光明日报', '经济日报', '中国日报', '中国新闻网', '中新社', '中新网', '求是', '解放军报', '中国青年报', '环球时报',
    ],
  }),
  spread: z
    .strictObject({
      cluster_size: Thresholds.default([{ at: 10, steps: 1 }, { at: 50, steps: 2 }]),
      reposts: Thresholds.default([{ at: 1000, steps: 1 }, { at: 10000, steps: 2 }]),
      comments: Thresholds.default([{ at: 500, steps: 1 }, { at: 5000, steps: 2 }]),
      growth_per_hour: Thresholds.default([{ at: 20, steps: 1 }, { at: 100, steps: 2 }]),
    })
    .prefault({}),
});
export type LevelPolicy = z.output<typeof LevelPolicySchema>;
type AuthorTier = z.output<typeof AuthorTierSchema>;

export const DEFAULT_LEVEL_POLICY: LevelPolicy = LevelPolicySchema.parse({});

export interface LevelInput {
  /** The topic's base level. */
  base: Level;
  /** Sentiment of the matched passage, −1 (most negative) … 1. */
  sentiment: number;
  /** Severity words found in the document (see findSeverityWords). */
  severityWords?: readonly string[];
  /** The author's tier if the document says; else `source` is looked up in `tier_sources`. */
  authorTier?: AuthorTier;
  source?: string;
  /** Documents in the near-duplicate cluster, this one included. */
  clusterSize?: number;
  reposts?: number;
  comments?: number;
  /** New documents in the cluster per hour. */
  growthPerHour?: number;
}

export interface LevelDecision {
  level: Level;
  /** Steps actually applied (after the cap). */
  steps: number;
  /** Each rule that applied, then the outcome, as sentences for the alert. */
  reasons: string[];
}

const LEVEL_NAMES: Record<Level, string> = { 1: '一级', 2: '二级', 3: '三级' };
const TIER_NAMES: Record<AuthorTier, string> = {
  central: '中央媒体',
  provincial: '省级媒体',
  local: '地方媒体',
  verified: '认证大号',
  ordinary: '普通账号',
};
const SPREAD_NAMES: Record<keyof LevelPolicy['spread'], (n: number) => string> = {
  cluster_size: (n) => `相似报道 ${n} 篇`,
  reposts: (n) => `转发 ${n} 次`,
  comments: (n) => `评论 ${n} 条`,
  growth_per_hour: (n) => `每小时新增 ${n} 篇`,
};

export function decideLevel(input: LevelInput, policy: LevelPolicy = DEFAULT_LEVEL_POLICY): LevelDecision {
  const reasons = [`专题基础等级：${LEVEL_NAMES[input.base]}`];
  let wanted = 0;
  const raise = (steps: number, reason: string): void => {
    if (steps <= 0) return;
    wanted += steps;
    reasons.push(`${reason}：升 ${steps} 级`);
  };

  if (input.sentiment <= policy.negativity.at) {
    raise(policy.negativity.steps, `情绪明显负面（${input.sentiment.toFixed(2)} ≤ ${policy.negativity.at}）`);
  }

  const found = new Set(input.severityWords ?? []);
  const categories = policy.severity.filter((c) => c.words.some((w) => found.has(w)));
  if (categories.length > 0) {
    const words = categories.map((c) => `${c.words.filter((w) => found.has(w)).join('、')}（${c.label}）`);
    raise(Math.max(...categories.map((c) => c.steps)), `含严重性词语：${words.join('；')}`);
  }

  const tier = input.authorTier ?? sourceTier(input.source, policy);
  if (tier) raise(policy.tiers[tier], `来源权威：${TIER_NAMES[tier]}${input.source ? `（${input.source}）` : ''}`);

  const spread = (Object.keys(SPREAD_NAMES) as Array<keyof LevelPolicy['spread']>).flatMap((indicator) => {
    const value = { cluster_size: input.clusterSize, reposts: input.reposts, comments: input.comments, growth_per_hour: input.growthPerHour }[indicator];
    const reached = value === undefined ? undefined : policy.spread[indicator].filter((t) => value >= t.at).at(-1);
    return reached && reached.steps > 0 ? [{ steps: reached.steps, text: `${SPREAD_NAMES[indicator](value as number)}（≥ ${reached.at}）` }] : [];
  });
  if (spread.length > 0) raise(Math.max(...spread.map((s) => s.steps)), `传播：${spread.map((s) => s.text).join('、')}`);

  const steps = Math.min(wanted, policy.max_steps, input.base - 1);
  if (steps < wanted) reasons.push(`合计升 ${wanted} 级，按上限（最多升 ${policy.max_steps} 级，最高一级）升 ${steps} 级`);
  const level = (input.base - steps) as Level;
  reasons.push(`预警等级：${LEVEL_NAMES[level]}`);
  return { level, steps, reasons };
}

/** The tier `tier_sources` gives a source name (the first tier listing a name the source contains). */
export function sourceTier(source: string | undefined, policy: LevelPolicy = DEFAULT_LEVEL_POLICY): AuthorTier | undefined {
  if (!source) return undefined;
  const name = normalizeKeyword(source);
  return compile(policy).tierSources.find(([, names]) => names.some((n) => name.includes(n)))?.[0];
}

interface CompiledPolicy {
  severity: AhoCorasick;
  severityWords: string[];
  tierSources: Array<[AuthorTier, string[]]>;
}

const compiledPolicies = new WeakMap<LevelPolicy, CompiledPolicy>();

/** Normalised word lists and the severity automaton, made once per policy object. */
function compile(policy: LevelPolicy): CompiledPolicy {
  let compiled = compiledPolicies.get(policy);
  if (!compiled) {
    const severityWords = [...new Set(policy.severity.flatMap((c) => c.words))];
    compiled = {
      severity: new AhoCorasick(severityWords.map(normalizeKeyword)),
      severityWords,
      tierSources: AUTHOR_TIERS.map((tier): [AuthorTier, string[]] => [tier, (policy.tier_sources[tier] ?? []).map(normalizeKeyword)]),
    };
    compiledPolicies.set(policy, compiled);
  }
  return compiled;
}

/** The policy's severity words that occur in the given normalised texts (`normalize(x).text`), as the policy spells them. */
export function findSeverityWords(policy: LevelPolicy, ...normalizedTexts: string[]): string[] {
  const { severity, severityWords } = compile(policy);
  const found = new Set<string>();
  for (const text of normalizedTexts) severity.scan(text, (pattern) => found.add(severityWords[pattern] as string));
  return [...found];
}
