import JSZip from 'jszip';
import { composeBriefing, type BriefingData } from '../../console/briefings/compose';
import { renderBriefingDocx } from '../../console/briefings/docx';
import { escapeHtml, html, renderBriefingHtml } from '../../console/briefings/html';
import { renderPdf } from '../../console/briefings/pdf';
import { customPeriod, dayPeriod, lastDuePeriod, latestCompleted, parseLocalDate, previousPeriod, weekPeriod } from '../../console/briefings/period';
import { dayNumber } from '../../core/time';
import type { Store } from '../../store/types';
import { removeDataDir, storeFor, testConfig } from '../support/backends';
import { ALERTS, DOCS, HOSTILE_TITLE } from './briefing-fixtures';

const SHANGHAI = 'Asia/Shanghai';
const bj = (local: string) => Date.parse(`${local}+08:00`);

describe('briefing periods in Asia/Shanghai', () => {
  it('cuts a day at local midnight and a week at Monday 00:00', () => {
    expect(dayPeriod(dayNumber(2026, 3, 5), SHANGHAI)).toEqual({
      kind: 'daily',
      from: '2026-03-04T16:00:00.000Z',
      to: '2026-03-05T16:00:00.000Z',
      key: 'daily-2026-03-05',
      label: '2026年3月5日',
      time_zone: SHANGHAI,
    });
    // Thursday the 5th lies in the week of Monday the 2nd.
    expect(weekPeriod(dayNumber(2026, 3, 5), SHANGHAI)).toMatchObject({
      from: '2026-03-01T16:00:00.000Z',
      to: '2026-03-08T16:00:00.000Z',
      key: 'weekly-2026-03-02',
      label: '2026年3月2日至3月8日',
    });
    expect(weekPeriod(dayNumber(2025, 12, 31), SHANGHAI).label).toBe('2025年12月29日至2026年1月4日');
  });

  it('takes yesterday and last week by default, and the period before for 环比', () => {
    // 00:30 on the 6th in Beijing is still the 5th in UTC: the zone decides what "yesterday" is.
    const now = bj('2026-03-06T00:30:00');
    expect(latestCompleted('daily', now, SHANGHAI).key).toBe('daily-2026-03-05');
    expect(latestCompleted('weekly', now, SHANGHAI).key).toBe('weekly-2026-02-23');
    expect(previousPeriod(dayPeriod(dayNumber(2026, 3, 1), SHANGHAI)).key).toBe('daily-2026-02-28');
    expect(previousPeriod(weekPeriod(dayNumber(2026, 3, 5), SHANGHAI)).key).toBe('weekly-2026-02-23');
    const custom = customPeriod(bj('2026-03-05T10:00:00'), bj('2026-03-05T16:00:00'), SHANGHAI);
    expect(custom.label).toBe('2026年3月5日 10:00 至 2026年3月5日 16:00');
    expect(previousPeriod(custom)).toMatchObject({ from: '2026-03-04T20:00:00.000Z', to: '2026-03-05T02:00:00.000Z' });
  });

  it('knows which scheduled period fell due last', () => {
    const daily = { kind: 'daily' as const, at: '08:00' };
    expect(lastDuePeriod(daily, bj('2026-03-06T07:59:00'), SHANGHAI).key).toBe('daily-2026-03-04');
    expect(lastDuePeriod(daily, bj('2026-03-06T08:00:00'), SHANGHAI).key).toBe('daily-2026-03-05');
    const weekly = { kind: 'weekly' as const, at: '08:30', weekday: 1 };
    // Monday 2026-03-09, before and after 08:30.
    expect(lastDuePeriod(weekly, bj('2026-03-09T08:29:00'), SHANGHAI).key).toBe('weekly-2026-02-23');
    expect(lastDuePeriod(weekly, bj('2026-03-09T08:30:00'), SHANGHAI).key).toBe('weekly-2026-03-02');
    // Due on Wednesdays: on Sunday the last due was this week's Wednesday, covering last week.
    expect(lastDuePeriod({ ...weekly, weekday: 3 }, bj('2026-03-08T12:00:00'), SHANGHAI).key).toBe('weekly-2026-02-23');
  });

  it('reads only real dates', () => {
    expect(parseLocalDate('2026-02-28')).toBe(dayNumber(2026, 2, 28));
    expect(parseLocalDate('2026-02-30')).toBeUndefined();
    expect(parseLocalDate('2026-3-5')).toBeUndefined();
  });
});

describe('the escaping template', () => {
  it('escapes every interpolated value unless it was built by the template', () => {
    const title = '"><img src=x onerror=alert(1)>';
    expect(html`<a title="${title}">${'<script>x</script>'}</a>`.markup).toBe(
      '<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&lt;script&gt;x&lt;/script&gt;</a>',
    );
    expect(html`<ul>${['<b>', html`<li>${'&'}</li>`]}</ul>`.markup).toBe('<ul>&lt;b&gt;<li>&amp;</li></ul>');
    expect(escapeHtml("'`")).toBe('&#39;&#96;');
  });
});

describe('a daily briefing of 2026-03-05', () => {
  const config = testConfig('embedded');
  let store: Store;
  let data: BriefingData;

  beforeAll(async () => {
    store = storeFor(config);
    await store.putDocuments(DOCS);
    for (const a of ALERTS) await store.createAlert(a);
    await store.refresh();
    data = await composeBriefing(dayPeriod(dayNumber(2026, 3, 5), SHANGHAI), {
      store,
      now: new Date('2026-03-06T00:00:00Z'),
      topicName: (id) => ({ fire: '森林火灾（规则）' })[id],
      publicUrl: 'https://console.example.cn/',
    });
  });

  afterAll(async () => {
    await store.close();
    removeDataDir(config);
  });

  it('counts by local day, compares with the day before, and lists the active events by severity', () => {
    // b-1 (23:30 UTC on the 4th) is the 5th in Beijing; next-day (23:30 UTC on the 5th) is not.
    expect(data.totals.documents).toEqual({ current: 4, previous: 2, change: 1 });
    expect(data.totals.alerts).toEqual({ current: 2, previous: 1, change: 1 });
    expect(data.totals.alerts_by_level).toEqual({ 1: 1, 2: 0, 3: 1 });
    expect(data.totals.reposts).toBe(150);
    expect(data.figures.sentiment).toMatchObject({ negative: 2, neutral: 1, positive: 1, unscored: 0 });
    expect(data.figures.top_sources[0]).toEqual({ key: '央视新闻', count: 2 });
    expect(data.figures.top_topics).toEqual([
      { key: 'blast', count: 3 },
      { key: 'fire', count: 1, name: '森林火灾（规则）' },
    ]);
    expect(data.interval).toBe('hour');
    expect(data.figures.documents.over_time).toHaveLength(24);
    expect(data.figures.documents.over_time[7]).toEqual({ key: '2026-03-04T23:00:00.000Z', documents: 1, reposts: 120 });
    expect(data.events.map((e) => [e.level, e.status])).toEqual([[1, 'closed'], [2, 'acknowledged'], [3, 'open']]);
    const blast = data.events[0]!;
    expect(blast).toMatchObject({
      title: HOSTILE_TITLE,
      topic_name: '危化品事故',
      summary: '已发布权威通报，舆情平息',
      last_note: { by: 'ana', action: 'closed', text: '已发布权威通报，舆情平息' },
      link: `https://console.example.cn/#/alerts/${blast.id}`,
    });
    expect(data.summary).toBe(
      '2026年3月5日，共监测到相关信息 4 条，较前一日增加 100.0%；新增预警 2 起（一级 1 起、三级 1 起），较前一日增加 100.0%；负面信息 2 条，占 50.0%；主要信息来源为央视新闻、人民网、新华网；本期涉及事件 3 起，列表中尚未办结 2 起。',
    );
  });

  it('renders HTML in Chinese with every scraped and typed value escaped', () => {
    const page = renderBriefingHtml(data);
    expect(page).toContain('<title>舆情日报（2026年3月5日）</title>');
    expect(page).toContain('化工厂爆炸&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(page).toContain('办结：已发布权威通报，舆情平息');
    expect(page).not.toMatch(/<script|<img|<b>/i);
    // Times in the zone: the incident's first document was 07:30 on the 5th.
    expect(page).toContain('2026-03-05 07:30');
    expect(page).not.toMatch(/https?:\/\/(?!console\.example\.cn|www\.w3\.org)/);
  });

  it('prints a PDF with Chromium', async () => {
    const started = Date.now();
    const pdf = await renderPdf(renderBriefingHtml(data), { executablePath: '/usr/bin/chromium' });
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect((text.match(/\/Type\s*\/Page\b(?!s)/g) ?? []).length).toBeGreaterThanOrEqual(1);
    // Text was laid out (fonts are embedded), and the document title is the briefing's.
    expect(text).toMatch(/\/Type\s*\/Font\b/);
    const title = /\/Title\s*<FEFF([0-9A-F]+)>/.exec(text)?.[1];
    expect(Buffer.from(title ?? '', 'hex').swap16().toString('utf16le')).toBe('舆情日报（2026年3月5日）');
    process.stdout.write(`briefing PDF: ${pdf.length} bytes in ${Date.now() - started} ms\n`);
  });

  it('reports a missing Chromium plainly', async () => {
    await expect(renderPdf('<p>x</p>', { executablePath: '/nonexistent/chromium' })).rejects.toMatchObject({
      code: 'SB_BRIEFING_RENDER_FAILED',
      message: expect.stringContaining('/nonexistent/chromium'),
    });
  });

  it('writes a Word document: a zip whose document.xml holds the Chinese title and the escaped scraped title', async () => {
    const docx = await renderBriefingDocx({ ...data, events: [{ ...data.events[0]!, title: `${HOSTILE_TITLE}\u0001` }] });
    expect(docx.subarray(0, 2).toString('latin1')).toBe('PK');
    const zip = await JSZip.loadAsync(docx);
    const xml = await zip.file('word/document.xml')!.async('string');
    expect(xml).toContain('舆情日报');
    expect(xml).toContain('化工厂爆炸&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain('\u0001');
    expect(await zip.file('docProps/core.xml')!.async('string')).toContain('舆情日报（2026年3月5日）');
  });
});

describe('an empty custom briefing', () => {
  it('says there were no events and no previous data', async () => {
    const config = testConfig('embedded');
    const store = storeFor(config);
    try {
      const data = await composeBriefing(customPeriod(bj('2026-03-05T10:00:00'), bj('2026-03-05T16:00:00'), SHANGHAI), { store, now: new Date() });
      expect(data.title).toBe('舆情简报');
      expect(data.totals.documents).toEqual({ current: 0, previous: 0, change: null });
      expect(renderBriefingHtml(data)).toContain('本期无预警事件。');
    } finally {
      await store.close();
      removeDataDir(config);
    }
  });
});
