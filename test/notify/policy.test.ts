import { checkPolicy, DEFAULT_POLICY, planSteps, PolicySchema, resolveTargets, roundKey, type Step } from '../../notify/policy';
import { bj, testRoster } from './helpers';

const MIN = 60_000;
const level1 = (DEFAULT_POLICY.levels[1] as { steps: Step[] }).steps;
const level2 = (DEFAULT_POLICY.levels[2] as { steps: Step[] }).steps;

/** Runs the planner minute by minute as the notifier's timer would, recording what it sends when. */
function simulate(steps: Step[], minutes: number, ackAt?: number): string[] {
  const done = new Set<string>();
  const sent: string[] = [];
  for (let m = 0; m <= minutes; m++) {
    if (ackAt !== undefined && m >= ackAt) break;
    for (const due of planSteps(steps, 0, done, m * MIN).due) {
      done.add(roundKey(due.step, due.round));
      sent.push(`${m}: step ${due.step} round ${due.round}`);
    }
  }
  return sent;
}

describe('escalation planner', () => {
  it.each([
    [
      '一级: duty and leaders at once, every 5 minutes, next tier after 10',
      level1, 16, undefined,
      ['0: step 0 round 0', '5: step 0 round 1', '10: step 0 round 2', '10: step 1 round 0', '15: step 0 round 3', '15: step 1 round 1'],
    ],
    ['一级 acknowledged at minute 7: nothing after', level1, 30, 7, ['0: step 0 round 0', '5: step 0 round 1']],
    ['二级: duty at once, leaders after 15', level2, 60, undefined, ['0: step 0 round 0', '15: step 1 round 0']],
    ['二级 acknowledged at 14: leaders never paged', level2, 60, 14, ['0: step 0 round 0']],
  ])('%s', (_name, steps, minutes, ackAt, expected) => {
    expect(simulate(steps, minutes, ackAt)).toEqual(expected);
  });

  it('collapses rounds missed while down into the latest, and says when to look again', () => {
    const plan = planSteps(level1, 0, new Set([roundKey(0, 0)]), 17 * MIN);
    expect(plan.due).toEqual([{ step: 0, round: 3 }, { step: 1, round: 1 }]);
    expect(plan.nextAt).toBe(20 * MIN);
    expect(planSteps(level2, 0, new Set(), 0).nextAt).toBe(15 * MIN);
  });

  it('stops repeating after max_rounds', () => {
    const steps = PolicySchema.shape.levels.parse({
      1: { steps: [{ notify: ['duty'], channels: ['sms'], repeat_every_minutes: 1, max_rounds: 3 }] },
      2: { steps: [{ notify: ['duty'], channels: ['sms'] }] },
      3: { digest: {} },
    })[1] as { steps: Step[] };
    expect(simulate(steps.steps, 10)).toEqual(['0: step 0 round 0', '1: step 0 round 1', '2: step 0 round 2']);
    expect(planSteps(steps.steps, 0, new Set(['0:0', '0:1', '0:2']), 10 * MIN)).toEqual({ due: [] });
  });
});

describe('targets', () => {
  const roster = testRoster();

  it('reads the person on duty at the time of sending, so a handover mid-escalation pages the new holder', () => {
    expect(resolveTargets(['duty', 'leaders'], roster, bj('2026-03-02 08:59') + 86_400_000)).toEqual(['zhang', 'zhao']);
    expect(resolveTargets(['duty', 'leaders'], roster, bj('2026-03-03 09:00'))).toEqual(['li', 'zhao']);
    expect(resolveTargets(['next_tier', 'person:zhao', 'leaders'], roster, 0)).toEqual(['qian', 'zhao']);
  });

  it('finds unknown rotations and people in a policy', () => {
    const policy = PolicySchema.parse({
      rotation: 'night',
      levels: { 1: { steps: [{ notify: ['person:nobody'], channels: ['sms'] }] }, 2: { steps: [{ notify: ['duty:x'], channels: ['sms'] }] }, 3: { digest: {} } },
    });
    expect(checkPolicy('p', policy, roster)).toEqual([
      'policy p: unknown rotation "night"',
      'policy p level 1: unknown person "nobody"',
      'policy p level 2: unknown rotation "x"',
    ]);
    expect(checkPolicy('default', DEFAULT_POLICY, roster)).toEqual([]);
  });
});
