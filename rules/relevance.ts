import type { Field, TopicHit } from './matcher';

/**
 * How relevant a matched document is to a topic, from 0 to 1, with the reasons:
 *
 *   score = evidence·w_evidence + coverage·w_coverage + proximity·w_proximity
 *
 * - evidence: the keyword occurrences. Each distinct keyword in a field adds
 *   fieldWeight·(1 + r + r² + … ) over its occurrences (r = repeatDecay), so repeating one word
 *   saturates; the sum goes through 1 − e^(−sum/evidenceScale), so evidence saturates too.
 * - coverage: how many of the topic's keyword groups the document covers (region, subject, event,
 *   and the required parts of the expression), over `fullCoverageGroups`. A match covers all of the
 *   topic's groups, so this rewards topics defined by several concepts over one-word topics.
 * - proximity: e^(−gap/proximityChars) for the smallest gap between occurrences of two different
 *   groups in the same field. A topic with a single group has no proximity, and its weight moves
 *   to evidence.
 */
export interface RelevanceOptions {
  /** Weight of a keyword's first occurrence in the title; default 1. */
  titleWeight?: number;
  /** Weight of a keyword's first occurrence in the text; default 0.35. */
  textWeight?: number;
  /** Each further occurrence of the same keyword in the same field counts this much of the previous; default 0.5. */
  repeatDecay?: number;
  /** Occurrence weight at which evidence reaches 1 − 1/e ≈ 0.63; default 1.2. */
  evidenceScale?: number;
  /** Groups needed for full coverage; default 3 (region, subject and event). */
  fullCoverageGroups?: number;
  /** Gap, in characters, at which proximity falls to 1/e ≈ 0.37; default 30. */
  proximityChars?: number;
  /** Shares of the score; defaults evidence 0.5, coverage 0.3, proximity 0.2 (they should sum to 1). */
  weights?: { evidence: number; coverage: number; proximity: number };
}

export const DEFAULT_RELEVANCE: Required<RelevanceOptions> = {
  titleWeight: 1,
  textWeight: 0.35,
  repeatDecay: 0.5,
  evidenceScale: 1.2,
  fullCoverageGroups: 3,
  proximityChars: 30,
  weights: { evidence: 0.5, coverage: 0.3, proximity: 0.2 },
};

/** What one keyword in one field contributed. */
export interface TermContribution {
  term: string;
  field: Field;
  group: string;
  count: number;
  /** Its share of the score. */
  contribution: number;
}

export interface Relevance {
  score: number;
  evidence: number;
  coverage: number;
  /** Undefined when the topic has a single group. */
  proximity: number | undefined;
  terms: TermContribution[];
  /** The same, as sentences for an analyst (Chinese). */
  reasons: string[];
}

const FIELD_NAMES: Record<Field, string> = { title: '标题', text: '正文' };
const GROUP_NAMES: Record<string, string> = { region: '地域词', subject: '主体词', event: '事件词', expr: '表达式' };

/** region → 地域词; expr.2 → 表达式第2部分. */
function groupName(group: string): string {
  const part = /^expr\.(\d+)$/.exec(group);
  return part ? `表达式第${part[1]}部分` : (GROUP_NAMES[group] ?? group);
}

export function scoreRelevance(match: TopicHit, options: RelevanceOptions = {}): Relevance {
  const o = { ...DEFAULT_RELEVANCE, ...options };
  const byTerm = new Map<string, { term: string; field: Field; group: string; count: number; mass: number }>();
  for (const hit of match.hits) {
    const key = `${hit.field}\0${hit.term}`;
    const entry = byTerm.get(key) ?? { term: hit.term, field: hit.field, group: hit.group, count: 0, mass: 0 };
    entry.mass += (hit.field === 'title' ? o.titleWeight : o.textWeight) * o.repeatDecay ** entry.count;
    entry.count++;
    byTerm.set(key, entry);
  }
  const totalMass = [...byTerm.values()].reduce((sum, t) => sum + t.mass, 0);
  const evidence = 1 - Math.exp(-totalMass / o.evidenceScale);
  const coverage = Math.min(1, match.groups.length / o.fullCoverageGroups);
  const gap = smallestGap(match);
  const proximity = match.groups.length > 1 ? Math.exp(-gap / o.proximityChars) : undefined;
  const evidenceWeight = o.weights.evidence + (proximity === undefined ? o.weights.proximity : 0);
  const score = clamp01(evidence * evidenceWeight + coverage * o.weights.coverage + (proximity ?? 0) * o.weights.proximity);

  const terms = [...byTerm.values()].map((t) => ({
    term: t.term,
    field: t.field,
    group: t.group,
    count: t.count,
    contribution: totalMass > 0 ? (evidence * evidenceWeight * t.mass) / totalMass : 0,
  }));
  terms.sort((a, b) => b.contribution - a.contribution);
  const reasons = terms.map((t) => `${FIELD_NAMES[t.field]}命中“${t.term}”${t.count} 次：+${t.contribution.toFixed(2)}`);
  reasons.push(`覆盖 ${match.groups.length} 组关键词（${match.groups.map(groupName).join('、')}）：+${(coverage * o.weights.coverage).toFixed(2)}`);
  if (proximity !== undefined) {
    const where = Number.isFinite(gap) ? `不同组关键词最近相隔 ${gap} 字` : '不同组关键词不在同一字段';
    reasons.push(`${where}：+${(proximity * o.weights.proximity).toFixed(2)}`);
  }
  return { score, evidence, coverage, proximity, terms, reasons };
}

/** Smallest number of characters between hits of different groups in the same field (Infinity if none). */
function smallestGap(match: TopicHit): number {
  let best = Infinity;
  // Hits come sorted by field then start; the closest pair of different groups is found by
  // remembering, per group, the furthest end seen so far in the field.
  let field: Field | undefined;
  const lastEnd = new Map<string, number>();
  for (const hit of match.hits) {
    if (hit.field !== field) {
      field = hit.field;
      lastEnd.clear();
    }
    for (const [group, end] of lastEnd) if (group !== hit.group) best = Math.min(best, Math.max(0, hit.start - end));
    lastEnd.set(hit.group, Math.max(lastEnd.get(hit.group) ?? -Infinity, hit.end));
  }
  return best;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
