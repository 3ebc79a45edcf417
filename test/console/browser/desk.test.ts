import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { alert, doc } from '../../support/records';
import { startConsole, type TestConsole } from '../helpers';
import { haveChromium, launchBrowser, openPage, PNG_SIGNATURE, screenshot, signIn } from './browser';

/**
 * The analyst's desk in the system Chromium: tune a topic (validation as one types, test on text,
 * backtest, save, history with its diff, roll back), the overview dashboard, a briefing generated
 * and downloaded as PDF, and the admin pages. Screenshots go to var/screenshots/.
 */

const describeBrowser = haveChromium ? describe : describe.skip;

const ORIGINAL = `topics:
  - id: chemical-blast
    name: 化工企业爆炸起火
    subject: [化工厂, 化工企业]
    event: [爆炸, 起火]
    alert_on: any
    threshold: 0.1
    level: 2
`;

// The edit: leaks count too, drills do not.
const EDITED = ORIGINAL.replace('event: [爆炸, 起火]', 'event: [爆炸, 起火, 泄漏]\n    exclude: [演练]');

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

describeBrowser('console in the browser: rules, overview, briefings, admin', () => {
  let c: TestConsole;
  let browser: Browser;
  const leak = doc({ key: 'leak', title: '化工厂氯气泄漏 周边居民疏散', text: '某化工厂发生氯气泄漏，周边居民已疏散。', published_at: hoursAgo(20), source: '澎湃新闻' });
  const drill = doc({ key: 'drill', title: '化工厂爆炸应急演练', text: '今天，某化工厂组织爆炸应急演练。', published_at: hoursAgo(30), source: '本地宝' });
  const blast = doc({ key: 'blast', title: '化工厂发生爆炸', text: '某化工厂发生爆炸，伤亡不明。', published_at: hoursAgo(10), source: '新华网', sentiment: -0.8, topics: ['chemical-blast'], level: 2 });
  const other = doc({ key: 'other', title: '国务院新闻办举行发布会', text: '介绍防汛抗旱工作情况。', published_at: hoursAgo(5), source: '中国政府网', sentiment: 0.3 });

  beforeAll(async () => {
    c = await startConsole({ users: [{ name: 'ana', role: 'analyst' }, { name: 'duty1', role: 'duty' }, { name: 'root', role: 'admin' }], topics: { 'safety.yaml': ORIGINAL } });
    await c.store.putDocuments([leak, drill, blast, other]);
    const at = hoursAgo(10);
    await c.store.createAlert(alert({ key: 'blast', topic: 'chemical-blast', level: 2, title: blast.title, first_seen_at: at, opened_at: at, last_seen_at: at, updated_at: at }));
    await c.store.refresh();
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await c?.close();
  });

  it('edits a topic: validation as one types, test on text, backtest, save, history, roll back', async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, c.url, 'ana');
    await page.locator('[data-nav=rules]').click();
    const editor = page.locator('[data-rule-editor]');
    await page.locator('[data-validation=valid]').waitFor();
    expect(await editor.inputValue()).toBe(ORIGINAL);

    // A misspelt key is reported with its line and column while typing, before any save.
    await editor.fill(ORIGINAL.replace('threshold: 0.1', 'threshhold: 0.1'));
    await page.locator('[data-validation=invalid]').waitFor();
    const issue = await page.locator('[data-issues] li').first().textContent();
    expect(issue).toMatch(/^7:5 /);
    expect(issue).toContain('threshhold');
    expect(await page.locator('.gutter .bad').allTextContents()).toEqual(['7']);

    await editor.fill(EDITED);
    await page.locator('[data-validation=valid]').waitFor();
    await page.locator('[data-unsaved]').waitFor();

    // 测试: the unsaved edit on a pasted article.
    await page.locator('[data-rule-test] input[name=title]').fill('化工厂氯气泄漏');
    await page.locator('[data-rule-test] textarea[name=text]').fill('今晨某化工厂发生氯气泄漏，消防正在处置。');
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/rules/test'));
    await page.locator('[data-rule-test] button[type=submit]').click();
    const tested = (await (await answered).json()) as { topics: Array<{ level: number }> };
    const result = page.locator('[data-topic-result=chemical-blast]');
    await result.waitFor();
    expect(await result.locator('.hl-title mark').allTextContents()).toEqual(['化工厂', '泄漏']);
    expect(Number(await result.locator('[data-score]').textContent())).toBeGreaterThan(0.1);
    expect(await result.locator('.badge').textContent()).toBe(['一级', '二级', '三级'][tested.topics[0]!.level - 1]);

    // 回测: what the edit would newly match and stop matching in the stored documents.
    await page.locator('[data-tab=backtest]').click();
    await page.locator('[data-backtest] input[name=days]').fill('3');
    await page.locator('[data-backtest] button[type=submit]').click();
    await page.locator('[data-backtest-status=done]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-backtest-list=added] [data-backtest-doc]').evaluateAll((els) => els.map((e) => e.getAttribute('data-backtest-doc')))).toEqual([leak.id]);
    expect(await page.locator('[data-backtest-list=removed] [data-backtest-doc]').evaluateAll((els) => els.map((e) => e.getAttribute('data-backtest-doc')))).toEqual([drill.id]);
    expect(await screenshot(page, 'rules-editor')).toMatchObject({ head: PNG_SIGNATURE });

    // 保存 with a message: the file on disk changes, history shows the version and its diff.
    await page.locator('[data-save] input[name=message]').fill('泄漏也算，演练不算');
    await page.locator('[data-save] button[type=submit]').click();
    await page.locator('[data-save] .notice.ok').waitFor();
    expect(readFileSync(join(c.topicsDir, 'safety.yaml'), 'utf8')).toBe(EDITED);
    await page.locator('[data-unsaved]').waitFor({ state: 'detached' });
    await page.locator('[data-tab=history]').click();
    const rows = page.locator('[data-rule-history] tr');
    await rows.first().filter({ hasText: '泄漏也算，演练不算' }).waitFor();
    const versions = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-version'))));
    expect(versions.length).toBeGreaterThanOrEqual(2);
    await rows.first().locator('button.link').click();
    await page.locator('[data-diff] .add').first().waitFor();
    expect(await page.locator('[data-diff] .add').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('exclude: [演练]')]));
    expect(await page.locator('[data-diff] .del').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('event: [爆炸, 起火]')]));

    // 回滚 to the version before: the original text is back on disk and in the editor.
    const previous = versions[1]!;
    await page.locator(`[data-rollback="${previous}"]`).click();
    await page.locator('.history-panel .notice.ok').waitFor();
    expect(readFileSync(join(c.topicsDir, 'safety.yaml'), 'utf8')).toBe(ORIGINAL);
    await page.waitForFunction((text) => (document.querySelector('[data-rule-editor]') as HTMLTextAreaElement).value === text, ORIGINAL);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('draws the overview dashboard', async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, c.url, 'ana');
    await page.locator('[data-nav=overview]').click();
    await page.locator('[data-totals]').waitFor();
    expect(await page.locator('[data-totals] strong').first().textContent()).toBe('4');
    // Six charts, each drawn on a canvas.
    await page.waitForFunction(() => document.querySelectorAll('[data-overview] .chart canvas').length >= 6);
    expect(await page.locator('.chart-empty').count()).toBe(0);
    expect(await screenshot(page, 'overview')).toMatchObject({ head: PNG_SIGNATURE });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('generates a briefing and downloads it as PDF', async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, c.url, 'ana');
    await page.locator('[data-nav=briefings]').click();
    await page.locator('[data-briefing-form] select[name=kind]').selectOption('weekly');
    await page.locator('[data-briefing-form] button[type=submit]').click();
    await page.locator('[data-briefing-form] .notice.ok').waitFor({ timeout: 60_000 });
    const row = page.locator('[data-briefing]').first();
    await row.locator('[data-download=pdf]').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-download=pdf]').click()]);
    const pdf = readFileSync((await download.path())!);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    expect(await screenshot(page, 'briefings')).toMatchObject({ head: PNG_SIGNATURE });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('lets an admin add a user and read the audit log', async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, c.url, 'root');
    await page.locator('[data-nav=admin]').click();
    await page.locator('[data-user-row=ana]').waitFor();
    const form = page.locator('[data-add-user]');
    await form.locator('input[name=name]').fill('newbie');
    await form.locator('select[name=role]').selectOption('analyst');
    await form.locator('input[name=password]').fill('newbie-pass-1234');
    await form.locator('button[type=submit]').click();
    await page.locator('[data-user-row=newbie]').waitFor();
    // The rule save and rollback of the first test are in the audit log, with who did them.
    await page.locator('[data-audit] tr').filter({ hasText: 'user.add' }).first().waitFor();
    const audit = await page.locator('[data-audit]').textContent();
    expect(audit).toContain('rules.');
    expect(audit).toContain('ana');
    expect(await screenshot(page, 'admin')).toMatchObject({ head: PNG_SIGNATURE });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows duty staff the rules read-only, with test on text still there', async () => {
    const { page, context } = await openPage(browser);
    await signIn(page, c.url, 'duty1');
    await page.goto(`${c.url}/#/rules`);
    await page.locator('[data-validation=valid]').waitFor();
    expect(await page.locator('[data-rule-editor]').getAttribute('readonly')).not.toBeNull();
    expect(await page.locator('[data-save]').count()).toBe(0);
    expect(await page.locator('[data-rule-test]').count()).toBe(1);
    await context.close();
  });
});
