import { ALERT_ACTIONS, applyAction, canApply, type ActionInput } from '../../alerts/lifecycle';
import { isShaobingError } from '../../core/errors';
import { ALERT_STATUSES } from '../../core/records';
import { alert } from '../support/records';

const at = '2026-03-05T11:00:00+08:00';
const base = alert({ key: 'life' });

function attempt(a: typeof base, input: Omit<ActionInput, 'by' | 'at'>) {
  try {
    return applyAction(a, { by: '张三', at, ...input });
  } catch (err) {
    return err;
  }
}

describe('alert lifecycle', () => {
  it('walks open → acknowledged → closed → reopened, recording who, when and why', () => {
    const acked = applyAction(base, { action: 'acknowledge', by: '张三', at, via: 'link' });
    const closed = applyAction(acked, { action: 'close', by: '李四', at, note: '已联系发布者删除不实信息' });
    const reopened = applyAction(closed, { action: 'reopen', by: 'system', at, note: '传播再次上升' });
    expect([acked.status, closed.status, reopened.status]).toEqual(['acknowledged', 'closed', 'open']);
    expect(reopened.history.slice(1)).toEqual([
      { at, action: 'acknowledged', by: '张三', via: 'link' },
      { at, action: 'closed', by: '李四', note: '已联系发布者删除不实信息' },
      { at, action: 'reopened', by: 'system', note: '传播再次上升' },
    ]);
    expect(base.history).toHaveLength(1);
  });

  it('changes the level only with a reason and a different level, recording both levels', () => {
    const raised = applyAction(base, { action: 'change_level', by: '张三', at, level: 1, note: '出现人员伤亡' });
    expect(raised.level).toBe(1);
    expect(raised.history.at(-1)).toMatchObject({ action: 'level_changed', from_level: 3, to_level: 1 });
    expect(isShaobingError(attempt(base, { action: 'change_level', level: 3, note: 'same' }), 'SB_ALERT_TRANSITION')).toBe(true);
    expect(isShaobingError(attempt(base, { action: 'change_level', level: 1 }), 'SB_ALERT_TRANSITION')).toBe(true);
  });

  it('refuses illegal moves with a message naming the status', () => {
    const closed = applyAction(base, { action: 'close', by: 'x', at, note: 'done' });
    const err = attempt(closed, { action: 'acknowledge' });
    expect(isShaobingError(err, 'SB_ALERT_TRANSITION')).toBe(true);
    expect((err as Error).message).toMatch(/it is closed/);
    expect(isShaobingError(attempt(base, { action: 'reopen', note: 'x' }), 'SB_ALERT_TRANSITION')).toBe(true);
    expect(isShaobingError(attempt(base, { action: 'close' }), 'SB_ALERT_TRANSITION')).toBe(true);
  });

  it('matches the table for every status and action', () => {
    const legal = ALERT_STATUSES.flatMap((s) => ALERT_ACTIONS.filter((a) => canApply(s, a)).map((a) => `${s}:${a}`));
    expect(legal.sort()).toEqual(
      ['open:acknowledge', 'open:assign', 'open:note', 'open:change_level', 'open:close', 'acknowledged:assign', 'acknowledged:note',
        'acknowledged:change_level', 'acknowledged:close', 'closed:note', 'closed:reopen'].sort(),
    );
  });

  it('assigns to a person', () => {
    const assigned = applyAction(base, { action: 'assign', by: '值班长', at, assignee: '王五' });
    expect(assigned.assignee).toBe('王五');
    expect(assigned.history.at(-1)).toMatchObject({ action: 'assigned', note: 'assigned to 王五' });
  });
});
