import type { Delivery } from '../../core/records';
import { BLAST, DOCS, FIRE } from './briefing-fixtures';
import { startConsole, type TestConsole } from './helpers';

const delivery = (key: string, status: Delivery['status'], at: string): Delivery => ({
  id: `d-${key}`,
  alert_id: BLAST.id,
  event_id: `${BLAST.id}:opened`,
  person: 'zhang',
  channel: 'sms',
  recipient: '138****0001',
  attempt: 1,
  status,
  latency_ms: 300,
  at,
});

describe('GET /api/alerts/:id/review', () => {
  let c: TestConsole;

  beforeAll(async () => {
    c = await startConsole({ users: [{ name: 'duo', role: 'duty' }] });
    await c.store.putDocuments(DOCS);
    for (const a of [BLAST, FIRE]) await c.store.createAlert(a);
    await c.store.putDeliveries([
      delivery('failed', 'failed', '2026-03-05T00:11:00.000Z'),
      delivery('sent', 'sent', '2026-03-05T00:12:30.000Z'),
      delivery('later', 'sent', '2026-03-05T00:20:00.000Z'),
    ]);
    await c.store.refresh();
  });

  afterAll(() => c.close());

  it('times each step of a closed incident from its first publication, and draws the spread around them', async () => {
    const duty = await c.login('duo');
    const { status, body } = await duty.get(`/api/alerts/${BLAST.id}/review`);
    expect(status).toBe(200);
    expect(body.moments).toEqual({
      first_published: '2026-03-04T23:30:00.000Z',
      // The first post was fetched at 00:20, the second (published 00:10) at 00:12.
      first_seen: '2026-03-05T00:12:00.000Z',
      opened: '2026-03-05T00:10:00.000Z',
      first_notified: '2026-03-05T00:12:30.000Z',
      acknowledged: '2026-03-05T00:30:00.000Z',
      closed: '2026-03-05T04:00:00.000Z',
    });
    expect(body.durations_ms).toEqual({ detect: 42 * 60_000, notify: 42.5 * 60_000, acknowledge: 60 * 60_000, close: 270 * 60_000 });
    expect(body.interval).toBe('hour');
    // An hour either side of the moments (22:30 → 05:00 UTC), empty hours included.
    expect(body.curve.map((b: { key: string }) => b.key.slice(11, 13))).toEqual(['22', '23', '00', '01', '02', '03', '04']);
    expect(body.curve.slice(0, 3)).toEqual([
      { key: '2026-03-04T22:00:00.000Z', documents: 0, reposts: 0 },
      { key: '2026-03-04T23:00:00.000Z', documents: 1, reposts: 120 },
      { key: '2026-03-05T00:00:00.000Z', documents: 2, reposts: 30 },
    ]);
  });

  it('leaves the moments an open alert has not reached null', async () => {
    const duty = await c.login('duo');
    const { body } = await duty.get(`/api/alerts/${FIRE.id}/review?interval=day`);
    expect(body.moments).toMatchObject({ first_published: '2026-03-05T15:59:00.000Z', first_notified: null, acknowledged: null, closed: null });
    expect(body.durations_ms).toEqual({ detect: expect.any(Number), notify: null, acknowledge: null, close: null });
    expect(body.interval).toBe('day');
    expect(body.curve.reduce((n: number, b: { documents: number }) => n + b.documents, 0)).toBe(2);
  });

  it('answers 404 for an unknown alert and 401 without a session', async () => {
    const duty = await c.login('duo');
    expect((await duty.get('/api/alerts/nope/review')).body.code).toBe('SB_CONSOLE_NOT_FOUND');
    expect((await c.anonymous().get(`/api/alerts/${BLAST.id}/review`)).status).toBe(401);
  });
});
