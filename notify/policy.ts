import { z } from 'zod';
import type { Level } from '../core/records';
import { dutyPerson, type Roster } from './roster';

/**
 * Escalation policies (the `policy` a topic names), per level, and the pure planner that says
 * what is due. The default follows the emergency plan:
 *
 * - 一级: SMS and a voice call to the person on duty and the leaders at once, repeated every 5
 *   minutes until acknowledged; the next tier joins after 10 minutes.
 * - 二级: SMS to the person on duty; the leaders after 15 minutes unacknowledged.
 * - 三级: a digest every 30 minutes to the team's group robot (or the duty person's mail).
 */

export const NOTIFY_CHANNELS = ['sms', 'voice', 'wecom', 'dingtalk', 'feishu', 'email', 'webhook'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** Where operator messages and summaries go when nothing says otherwise: whatever reaches the person first. */
export const DEFAULT_CHANNELS: readonly NotifyChannel[] = ['sms', 'email', 'wecom', 'dingtalk', 'feishu', 'webhook'];

/** `duty` (the policy's rotation), `duty:<rotation>`, `leaders`, `next_tier`, or `person:<id>`. */
const Target = z.string().regex(/^(duty(:[A-Za-z0-9._-]+)?|leaders|next_tier|person:[A-Za-z0-9._-]+)$/, 'duty, duty:<rotation>, leaders, next_tier or person:<id>');

export const StepSchema = z.strictObject({
  /** Minutes after the alert reached this level. */
  after_minutes: z.number().min(0).default(0),
  notify: z.array(Target).min(1),
  /** Tried in order for each person: the next one when one fails after its retries (failover). */
  channels: z.array(z.enum(NOTIFY_CHANNELS)).min(1),
  /** Send on every channel of the list (SMS and a voice call), not just until one gets through; default false. */
  all_channels: z.boolean().default(false),
  /** Page again this often until someone acknowledges; absent: once. */
  repeat_every_minutes: z.number().min(1).optional(),
  /** Rounds in all, the first included, when repeating; default 12. */
  max_rounds: z.number().int().min(1).default(12),
});
export type Step = z.output<typeof StepSchema>;

export const DigestSchema = z.strictObject({
  every_minutes: z.number().min(1).default(30),
  notify: z.array(Target).min(1).default(['duty']),
  channels: z.array(z.enum(NOTIFY_CHANNELS)).min(1).default(['wecom', 'dingtalk', 'feishu', 'email']),
});
export type Digest = z.output<typeof DigestSchema>;

/** Either steps (paged until acknowledged) or a digest (collected and sent together). */
export const LevelPlanSchema = z.union([z.strictObject({ steps: z.array(StepSchema).min(1) }), z.strictObject({ digest: DigestSchema.prefault({}) })]);
export type LevelPlan = z.output<typeof LevelPlanSchema>;

export const PolicySchema = z.strictObject({
  /** The rotation `duty` means; default the roster's first. */
  rotation: z.string().optional(),
  levels: z.strictObject({ 1: LevelPlanSchema, 2: LevelPlanSchema, 3: LevelPlanSchema }),
});
export type Policy = z.output<typeof PolicySchema>;

export const DEFAULT_POLICY: Policy = PolicySchema.parse({
  levels: {
    1: {
      steps: [
        { after_minutes: 0, notify: ['duty', 'leaders'], channels: ['sms', 'voice'], all_channels: true, repeat_every_minutes: 5 },
        { after_minutes: 10, notify: ['next_tier'], channels: ['sms', 'voice'], all_channels: true, repeat_every_minutes: 5 },
      ],
    },
    2: {
      steps: [
        { after_minutes: 0, notify: ['duty'], channels: ['sms'] },
        { after_minutes: 15, notify: ['leaders'], channels: ['sms'] },
      ],
    },
    3: { digest: { every_minutes: 30 } },
  },
});

/** A policy by name; `default` is built in unless the config redefines it; an unknown name falls back to it. */
export function policyFor(policies: Record<string, Policy>, name: string | undefined): Policy {
  return (name ? policies[name] : undefined) ?? policies.default ?? DEFAULT_POLICY;
}

export function levelPlan(policy: Policy, level: Level): LevelPlan {
  return policy.levels[level];
}

/** People a list of targets names at an instant, in order, each once. The on-duty person is read at `at`, so a handover mid-escalation pages the new holder. */
export function resolveTargets(targets: readonly string[], roster: Roster, at: number, rotation?: string): string[] {
  const out: string[] = [];
  const add = (id: string | undefined) => {
    if (id && !out.includes(id)) out.push(id);
  };
  for (const target of targets) {
    if (target === 'duty') add(dutyPerson(roster, at, rotation));
    else if (target.startsWith('duty:')) add(dutyPerson(roster, at, target.slice(5)));
    else if (target === 'leaders') roster.leaders.forEach(add);
    else if (target === 'next_tier') roster.next_tier.forEach(add);
    else if (target.startsWith('person:')) add(target.slice(7));
  }
  return out;
}

/** Problems with a policy against a roster, said plainly (an unknown rotation or person). */
export function checkPolicy(name: string, policy: Policy, roster: Roster): string[] {
  const problems: string[] = [];
  const rotations = new Set(roster.rotations.map((r) => r.id));
  const people = new Set(roster.people.map((p) => p.id));
  if (policy.rotation && !rotations.has(policy.rotation)) problems.push(`policy ${name}: unknown rotation "${policy.rotation}"`);
  for (const level of [1, 2, 3] as const) {
    const plan = policy.levels[level];
    const targets = 'steps' in plan ? plan.steps.flatMap((s) => s.notify) : plan.digest.notify;
    for (const t of targets) {
      if (t.startsWith('duty:') && !rotations.has(t.slice(5))) problems.push(`policy ${name} level ${level}: unknown rotation "${t.slice(5)}"`);
      if (t.startsWith('person:') && !people.has(t.slice(7))) problems.push(`policy ${name} level ${level}: unknown person "${t.slice(7)}"`);
    }
  }
  return problems;
}

export interface DueRound {
  step: number;
  /** 0 for the first page of the step, 1 for the first repeat… */
  round: number;
}

export interface Plan {
  due: DueRound[];
  /** When the next round falls due (epoch ms); undefined when the steps are exhausted. */
  nextAt?: number;
}

/**
 * Pure and table-driven: given when the alert reached its level, the steps, which rounds were
 * already sent and the time now, which rounds are due and when to look again. Rounds missed while
 * the notifier was down collapse into the latest one: nobody gets three pages at once.
 */
export function planSteps(steps: readonly Step[], startedAt: number, done: ReadonlySet<string>, now: number): Plan {
  const due: DueRound[] = [];
  let nextAt: number | undefined;
  const consider = (t: number) => {
    if (nextAt === undefined || t < nextAt) nextAt = t;
  };
  steps.forEach((step, index) => {
    const first = startedAt + step.after_minutes * 60_000;
    if (now < first) return consider(first);
    const rounds = step.repeat_every_minutes ? step.max_rounds : 1;
    const every = (step.repeat_every_minutes ?? 0) * 60_000;
    const latest = every > 0 ? Math.min(rounds - 1, Math.floor((now - first) / every)) : 0;
    if (!done.has(roundKey(index, latest))) due.push({ step: index, round: latest });
    if (latest + 1 < rounds) consider(first + (latest + 1) * every);
  });
  return nextAt === undefined ? { due } : { due, nextAt };
}

export function roundKey(step: number, round: number): string {
  return `${step}:${round}`;
}
