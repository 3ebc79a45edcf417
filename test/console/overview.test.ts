import { backendKinds } from '../support/backends';
import { ALERTS, DOCS } from './briefing-fixtures';
import { startConsole, type TestConsole } from './helpers';

describe.each(backendKinds)('GET /api/overview (%s)', (backend) => {
  let c: TestConsole;

  beforeAll(async () => {
    c = await startConsole({ backend, users: [{ name: 'duo', role: 'duty' }] });
    await c.store.putDocuments(DOCS);
    for (const a of ALERTS) await c.store.createAlert(a);
    await c.store.refresh();
  });

  afterAll(() => c.close());

  it('gives one Beijing day of volume, sentiment, alerts opened, sources, topics and platforms, hour by hour', async () => {
    const duty = await c.login('duo');
    const from = encodeURIComponent('2026-03-05T00:00:00+08:00');
    const to = encodeURIComponent('2026-03-06T00:00:00+08:00');
    const { status, body } = await duty.get(`/api/overview?from=${from}&to=${to}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: '2026-03-04T16:00:00.000Z', to: '2026-03-05T16:00:00.000Z', interval: 'hour', time_zone: 'Asia/Shanghai' });
    expect(body.documents.total).toBe(4);
    expect(body.documents.reposts).toBe(150);
    expect(body.documents.over_time).toHaveLength(24);
    expect(body.documents.over_time[8]).toEqual({ key: '2026-03-05T00:00:00.000Z', documents: 2, reposts: 30 });
    expect(body.sentiment).toMatchObject({ negative: 2, neutral: 1, positive: 1, unscored: 0, neutral_band: 0.2 });
    expect(body.sentiment.over_time[7]).toEqual({ key: '2026-03-04T23:00:00.000Z', negative: 1, neutral: 0, positive: 0 });
    // Counted when opened: the blast at 08:10 and the fire at 23:59 local; the old incident opened the day before.
    expect(body.alerts).toMatchObject({ basis: 'opened_at', total: 2, by_level: { 1: 1, 2: 0, 3: 1 } });
    expect(body.alerts.over_time[8]).toEqual({ key: '2026-03-05T00:00:00.000Z', total: 1, by_level: { 1: 1, 2: 0, 3: 0 } });
    expect(body.top_sources).toEqual([{ key: '央视新闻', count: 2 }, { key: '人民网', count: 1 }, { key: '新华网', count: 1 }]);
    expect(body.top_topics).toEqual([{ key: 'blast', count: 3 }, { key: 'fire', count: 1 }]);
    // Ties in count go by key, on both backends.
    expect(body.platforms).toEqual([{ key: 'news', count: 2 }, { key: 'weibo', count: 2 }]);
  });

  it('buckets by local day for longer spans', async () => {
    const duty = await c.login('duo');
    const { body } = await duty.get(`/api/overview?from=${encodeURIComponent('2026-03-04T00:00:00+08:00')}&to=${encodeURIComponent('2026-03-07T00:00:00+08:00')}`);
    expect(body.interval).toBe('day');
    expect(body.documents.over_time.map((b: { documents: number }) => b.documents)).toEqual([2, 4, 1]);
    expect(body.alerts.by_level).toEqual({ 1: 1, 2: 1, 3: 1 });
  });

  it('refuses a span backwards, too long, or too fine, naming the field', async () => {
    const duty = await c.login('duo');
    const bad = async (query: string) => (await duty.get(`/api/overview?${query}`)).body;
    expect(await bad('from=2026-03-05T00:00:00Z&to=2026-03-04T00:00:00Z')).toMatchObject({ code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringContaining('query.from') });
    expect(await bad('from=2020-01-01T00:00:00Z&to=2026-03-04T00:00:00Z')).toMatchObject({ message: expect.stringContaining('366 days') });
    expect(await bad('from=2026-01-01T00:00:00Z&to=2026-03-04T00:00:00Z&interval=hour')).toMatchObject({ message: expect.stringContaining('query.interval') });
    expect(await bad('from=yesterday')).toMatchObject({ message: expect.stringContaining('query.from') });
    expect(await bad('colour=red')).toMatchObject({ code: 'SB_CONSOLE_BAD_REQUEST' });
    expect((await c.anonymous().get('/api/overview')).status).toBe(401);
  });
});
