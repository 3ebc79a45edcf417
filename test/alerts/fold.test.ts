import { alertId, foldAlert, type FoldOptions } from '../../alerts/fold';
import { applyAction } from '../../alerts/lifecycle';
import type { Alert } from '../../core/records';
import { decideLevel } from '../../rules/level';
import type { DocumentSummary } from '../../store/types';

const topic = { id: 'mine-safety', name: '矿山安全', level: 3 as const, policy: 'default' };
const options: FoldOptions = { decide: (i) => decideLevel({ ...i, severityWords: [...i.severityWords] }), reopenAfterDocs: 5 };

function summary(count: number, extra: Partial<DocumentSummary> = {}): DocumentSummary {
  return {
    count,
    first_at: '2026-03-05T02:00:00.000Z',
    last_at: '2026-03-05T03:00:00.000Z',
    sources: [{ key: '新华网', count }],
    platforms: [{ key: 'news', count }],
    reposts: 0,
    comments: 0,
    peak_per_hour: 0,
    ...extra,
  };
}

const signals = { sentiment: -0.3, severity_words: [] as string[], title: '某煤矿发生透水事故', at: '2026-03-05T02:00:00.000Z' };

function fold(existing: Alert | undefined, s: DocumentSummary, sig: Partial<typeof signals> = {}) {
  return foldAlert(existing, { topic, cluster_id: 'c1', signals: { ...signals, ...sig }, summary: s }, options);
}

/** What the pipeline does after publishing: the outbox is emptied. */
const published = (a: Alert): Alert => ({ ...a, outbox: [] });

describe('foldAlert', () => {
  it('opens an alert at the documents’ own time, with an opened event in its outbox', () => {
    const alert = fold(undefined, summary(1))!;
    expect(alert).toMatchObject({
      id: alertId('mine-safety', 'c1'),
      status: 'open',
      level: 3,
      title: '某煤矿发生透水事故',
      opened_at: signals.at,
      first_seen_at: '2026-03-05T02:00:00.000Z',
      last_seen_at: '2026-03-05T03:00:00.000Z',
      doc_count: 1,
      sources: ['新华网'],
    });
    expect(alert.history).toEqual([expect.objectContaining({ action: 'opened', by: 'system', at: signals.at, to_level: 3 })]);
    expect(alert.outbox).toEqual([expect.objectContaining({ id: `${alert.id}:opened`, type: 'opened', level: 3, at: signals.at })]);
    expect(alert.level_reasons?.at(-1)).toBe('预警等级：三级');
  });

  it('changes nothing when the same documents are folded again', () => {
    const alert = published(fold(undefined, summary(3))!);
    expect(fold(alert, summary(3))).toBeUndefined();
  });

  it('keeps the most negative sentiment and every severity word seen, whatever the order', () => {
    const a = published(fold(undefined, summary(1), { sentiment: -0.2, severity_words: ['透水'] })!);
    const b = fold(a, summary(2), { sentiment: 0.5, severity_words: ['死亡'] })!;
    expect(b.sentiment).toBe(-0.2);
    expect(b.severity_words).toEqual(['死亡', '透水']);
  });

  it('escalates as the cluster spreads, once per level, and never lowers the level by itself', () => {
    const opened = published(fold(undefined, summary(2))!);
    const grown = fold(opened, summary(12))!;
    expect(grown.level).toBe(2);
    expect(grown.history.at(-1)).toMatchObject({ action: 'escalated', from_level: 3, to_level: 2 });
    expect(grown.outbox?.map((e) => e.id)).toEqual([`${opened.id}:escalated:2`]);
    expect(grown.level_reasons?.join(' ')).toMatch(/相似报道 12 篇/);

    const severe = fold(published(grown), summary(12), { sentiment: -0.9, severity_words: ['死亡'] })!;
    expect(severe.level).toBe(1);
    expect(severe.outbox?.map((e) => e.type)).toEqual(['escalated']);

    // Fewer documents later (a deletion) does not bring the level back down.
    const calmer = fold(published(severe), summary(2));
    expect(calmer?.level ?? severe.level).toBe(1);
  });

  it('reopens a closed alert when the cluster grows past the threshold, counting reopenings', () => {
    const opened = published(fold(undefined, summary(3))!);
    const closed = applyAction(opened, { action: 'close', by: '张三', at: '2026-03-05T04:00:00Z', note: '已处置' });
    expect(closed.closed_doc_count).toBe(3);
    expect(fold(closed, summary(7))?.status ?? 'closed').toBe('closed');
    const reopened = fold(closed, summary(8))!;
    expect(reopened.status).toBe('open');
    expect(reopened.history.at(-1)).toMatchObject({ action: 'reopened', by: 'system', note: '关闭后新增 5 篇相关报道，重新打开' });
    expect(reopened.outbox?.map((e) => e.id)).toEqual([`${opened.id}:reopened:1`]);

    const closedAgain = applyAction(published(reopened), { action: 'close', by: '张三', at: '2026-03-05T06:00:00Z', note: '再次处置' });
    // Grown past the spread threshold too: one reopened event, carrying the new level.
    const reopenedHigher = fold(closedAgain, summary(13))!;
    expect(reopenedHigher.outbox).toEqual([expect.objectContaining({ id: `${opened.id}:reopened:2`, type: 'reopened', level: 2 })]);
    expect(reopenedHigher.history.slice(-2).map((h) => h.action)).toEqual(['reopened', 'escalated']);
    // While closed and below the reopening threshold, nothing is sent.
    expect(fold(closedAgain, summary(12))?.outbox ?? []).toEqual([]);
  });

  it('keeps an event in the outbox once, however often the same change is folded', () => {
    const opened = fold(undefined, summary(1))!;
    const again = foldAlert({ ...opened, level: 3 }, { topic, cluster_id: 'c1', signals, summary: summary(12) }, options)!;
    const twice = foldAlert({ ...again, level: 3 }, { topic, cluster_id: 'c1', signals, summary: summary(12) }, options)!;
    expect(twice.outbox?.map((e) => e.id)).toEqual([`${opened.id}:opened`, `${opened.id}:escalated:2`]);
  });
});
