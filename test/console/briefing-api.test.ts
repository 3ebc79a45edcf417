import { ALERTS, DOCS } from './briefing-fixtures';
import { startConsole, type TestConsole } from './helpers';

describe('briefings API', () => {
  let c: TestConsole;

  beforeAll(async () => {
    c = await startConsole({
      users: [{ name: 'ana', role: 'analyst' }, { name: 'duo', role: 'duty' }],
      // 09:00 on the 6th in Beijing: "yesterday" is the 5th.
      now: () => new Date('2026-03-06T01:00:00Z'),
    });
    await c.store.putDocuments(DOCS);
    for (const a of ALERTS) await c.store.createAlert(a);
    await c.store.refresh();
  });

  afterAll(() => c.close());

  it('lets an analyst generate yesterday’s 日报, and everyone list, read and download it', async () => {
    const ana = await c.login('ana');
    const made = await ana.post('/api/briefings', { kind: 'daily' });
    expect(made.status).toBe(201);
    expect(made.body.id).toMatch(/^daily-2026-03-05-/);
    expect(made.body.briefing).toMatchObject({ kind: 'daily', title: '舆情日报（2026年3月5日）', generated_by: 'ana', scheduled: false, formats: ['html', 'pdf', 'docx'] });
    const { id } = made.body;
    await c.store.refresh();
    const audit = await c.store.searchAudit({ action: ['briefing.generate'] });
    expect(audit.items[0]).toMatchObject({ user: 'ana', target: `briefing:${id}`, after: { kind: 'daily', period: 'daily-2026-03-05', formats: ['html', 'pdf', 'docx'] } });

    const duty = await c.login('duo');
    const list = await duty.get('/api/briefings?kind=daily');
    expect(list.body.total).toBe(1);
    expect(list.body.items[0].id).toBe(id);
    expect((await duty.get(`/api/briefings/${id}`)).body.period).toMatchObject({ from: '2026-03-04T16:00:00.000Z', to: '2026-03-05T16:00:00.000Z' });

    const page = await duty.fetch(`/api/briefings/${id}/file.html`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox");
    expect(page.headers.get('content-disposition')).toMatch(/^inline; filename="daily-2026-03-05-[a-z0-9-]+\.html"; filename\*=UTF-8''%E8%88%86/);
    const text = await page.text();
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).not.toMatch(/<script|<img/i);

    const pdf = await duty.fetch(`/api/briefings/${id}/file.pdf`);
    expect(pdf.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const docx = await duty.fetch(`/api/briefings/${id}/file.docx`);
    expect(docx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(Buffer.from(await docx.arrayBuffer()).subarray(0, 2).toString('latin1')).toBe('PK');
    expect((await duty.fetch(`/api/briefings/${id}/file.html?download=1`)).headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('makes weekly and custom briefings for the period asked', async () => {
    const ana = await c.login('ana');
    const weekly = await ana.post('/api/briefings', { kind: 'weekly', date: '2026-03-05' });
    expect(weekly.body.briefing.period).toMatchObject({ key: 'weekly-2026-03-02', label: '2026年3月2日至3月8日' });
    const custom = await ana.post('/api/briefings', { kind: 'custom', from: '2026-03-05T08:00:00+08:00', to: '2026-03-05T12:00:00+08:00' });
    expect(custom.body.briefing).toMatchObject({ title: '舆情简报（2026年3月5日 08:00 至 2026年3月5日 12:00）' });
  });

  it('refuses duty staff generating, bad periods, unknown ids and formats', async () => {
    const duty = await c.login('duo');
    expect((await duty.post('/api/briefings', { kind: 'daily' })).body.code).toBe('SB_CONSOLE_FORBIDDEN');
    const ana = await c.login('ana');
    const bad = async (body: unknown) => (await ana.post('/api/briefings', body)).body;
    expect(await bad({ kind: 'custom', from: '2026-03-05T00:00:00Z' })).toMatchObject({ code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringContaining('body.to') });
    expect(await bad({ kind: 'daily', date: '2026-02-30' })).toMatchObject({ message: expect.stringContaining('body.date') });
    expect(await bad({ kind: 'daily', from: '2026-03-05T00:00:00Z' })).toMatchObject({ message: expect.stringContaining('body.from') });
    expect(await bad({ kind: 'monthly' })).toMatchObject({ message: expect.stringContaining('body.kind') });
    expect((await ana.get('/api/briefings/nope')).status).toBe(404);
    expect((await ana.get('/api/briefings/..%2F..%2Fetc/file.pdf')).status).toBe(400);
    expect((await ana.get('/api/briefings/daily-2026-03-05/file.exe')).status).toBe(400);
    expect((await c.anonymous().get('/api/briefings')).status).toBe(401);
  });
});
