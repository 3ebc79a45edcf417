import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '../../support/backends';
import { startConsole, type TestConsole } from '../helpers';
import { FAST_HTTP } from '../../collectors/helpers';
import { haveChromium, launchBrowser, openPage, signIn, type WatchedPage } from './browser';

/**
 * Scraped content is hostile, through the whole path: a feed on 127.0.0.1 whose titles, texts,
 * authors and links carry XSS payloads → the daemon's collector, pipeline and console roles on the
 * embedded backends → the queue, the alert pages and the rules test page in Chromium. Every payload
 * would set `window.__xss` and open a dialog if it ran; none may, no element may carry an event
 * handler attribute, no link may be `javascript:`, and the payloads must still be readable as text.
 */

const describeBrowser = haveChromium ? describe : describe.skip;

/** Each sets the trap and shouts, if it ever runs. */
const PAYLOADS = {
  script: `<script>window.__xss='script';alert('xss-script')</script>`,
  img: `<img src=x onerror="window.__xss='img';alert('xss-img')">`,
  svg: `"><svg onload="window.__xss='svg';alert('xss-svg')">`,
  textarea: `</textarea><script>window.__xss='textarea'</script><textarea>`,
  anchor: `<a href="javascript:window.__xss='a'">点我</a>`,
  iframe: `<iframe src="javascript:window.parent.__xss='iframe'"></iframe>`,
  template: `{{constructor.constructor('window.__xss="tpl"')()}}\${window.__xss='tpl2'}`,
};

/** Text for XML character data: the feed carries the payload escaped once, as feeds do. */
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Item {
  title: string;
  /** The description's HTML (the collector turns it into text). */
  html: string;
  author: string;
  link: string;
}

/**
 * Titles and texts escaped twice reach the store as literal markup (the collector decodes the
 * feed's entities, then the HTML entities), which is what the console must show as text; the
 * descriptions also carry live markup the collector strips. Links include `javascript:` ones.
 */
function hostileItems(base: string): Item[] {
  const twice = (s: string) => xml(xml(s));
  return [
    {
      title: twice(`化工厂爆炸 ${PAYLOADS.script}`),
      html: xml(`<p>某化工厂发生爆炸，现场浓烟。${PAYLOADS.img}</p><p>${xml(PAYLOADS.img)} 化工厂爆炸原因正在调查。</p>`),
      author: `<![CDATA[${PAYLOADS.svg}]]>`,
      link: `${base}/news/1?q="><script>window.__xss='url'</script>`,
    },
    {
      title: twice(`化工厂再次爆炸 ${PAYLOADS.textarea}`),
      html: xml(`<p>化工厂爆炸后 ${xml(PAYLOADS.anchor)} ${xml(PAYLOADS.iframe)} 实体 &amp;lt;b&amp;gt; &#x3C;b&#x3E;</p>${PAYLOADS.anchor}`),
      author: xml(PAYLOADS.img),
      link: `${base}/news/2`,
    },
    {
      title: twice(`化工厂爆炸通报 ${PAYLOADS.template}`),
      html: xml(`<p>据通报，化工厂爆炸已致多人受伤。${xml(PAYLOADS.svg)}</p>`),
      author: '应急管理局',
      link: `javascript:window.__xss='link'`,
    },
  ];
}

function feed(base: string): string {
  const items = hostileItems(base)
    .map(
      (item, i) => `<item>
  <title>${item.title}</title>
  <link>${xml(item.link)}</link>
  <guid isPermaLink="false">hostile-${i}</guid>
  <dc:creator>${item.author}</dc:creator>
  <pubDate>${new Date(Date.now() - (i + 1) * 600_000).toUTCString()}</pubDate>
  <description>${item.html}</description>
</item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>${xml(PAYLOADS.script)}</title><link>${base}/</link><description>hostile</description>
${items}
</channel></rss>`;
}

const TOPICS = `topics:
  - id: chemical-blast
    name: 化工企业爆炸起火
    subject: [化工厂]
    event: [爆炸]
    alert_on: any
    threshold: 0.05
    level: 2
`;

/** What would betray an executed or injected payload, read from the live page. */
async function injected(page: Page) {
  return page.evaluate(() => {
    const handlers = Array.from(document.querySelectorAll('*')).filter((el) => Array.from(el.attributes).some((a) => /^on/i.test(a.name)));
    const w = window as unknown as { __xss?: unknown };
    return {
      trap: w.__xss ?? null,
      handlers: handlers.map((el) => el.outerHTML.slice(0, 120)),
      scripts: Array.from(document.scripts).map((s) => s.getAttribute('src')).filter((src) => src !== '/assets/app/main.js'),
      frames: document.querySelectorAll('iframe, object, embed, svg:not(.chart svg)').length,
      javascriptLinks: Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')!).filter((h) => !/^(https?:|#|\/)/i.test(h)),
    };
  });
}

function expectClean(watched: WatchedPage, found: Awaited<ReturnType<typeof injected>>) {
  expect(found).toEqual({ trap: null, handlers: [], scripts: [], frames: 0, javascriptLinks: [] });
  expect(watched.dialogs).toEqual([]);
  expect(watched.errors).toEqual([]);
}

describeBrowser('hostile feed → collector → pipeline → console in Chromium', () => {
  let feedServer: Server;
  let c: TestConsole;
  let browser: Browser;

  beforeAll(async () => {
    feedServer = createServer((request, response) => {
      const base = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}`;
      if (request.url === '/feed.xml') {
        response.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' });
        response.end(feed(base));
      } else {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<html><body><h1>${PAYLOADS.script}</h1></body></html>`);
      }
    });
    await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/feed.xml`;
    c = await startConsole({
      users: [{ name: 'ana', role: 'analyst' }],
      topics: { 'safety.yaml': TOPICS },
      withRoles: ['collector', 'pipeline'],
      config: {
        sources: [{ type: 'rss', name: '恶意订阅源', url, full_article: 'never' }],
        collectors: { http: FAST_HTTP },
      },
    });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await c?.close();
    await new Promise((resolve) => feedServer?.close(resolve));
  });

  it('shows every payload as text and runs none: queue, alert pages, rules test', async () => {
    // The pipeline opens alerts from what the collector fetched.
    const alerts = await eventually(
      async () => (await c.store.searchAlerts({ size: 50 })).items,
      (items) => items.length > 0 && items.reduce((n, a) => n + a.value.doc_count, 0) >= 2,
      45_000,
    );
    expect(alerts.length).toBeGreaterThan(0);
    const stored = await c.store.searchDocuments({ size: 50 });
    // The payloads reached the store as literal text: this test is about the console, not the collector.
    const titles = stored.items.map((d) => d.title);
    expect(titles).toEqual(expect.arrayContaining([`化工厂爆炸 ${PAYLOADS.script}`, `化工厂再次爆炸 ${PAYLOADS.textarea}`]));
    // The javascript: link never became a document.
    expect(stored.items.every((d) => /^http:/.test(d.url))).toBe(true);

    const watched = await openPage(browser);
    const { page } = watched;
    await signIn(page, c.url, 'ana');
    await page.locator('[data-alert-id]').first().waitFor();
    const queueText = await page.locator('[data-alert-list]').textContent();
    expect(queueText).toContain('<script>');
    expectClean(watched, await injected(page));

    for (const { value: alert } of alerts) {
      await page.goto(`${c.url}/#/alerts/${alert.id}`);
      await page.locator(`[data-alert="${alert.id}"]`).waitFor();
      await page.locator('[data-doc]').first().waitFor();
      expect(await page.locator('[data-alert-title]').textContent()).toBe(alert.title);
      expectClean(watched, await injected(page));
    }

    // The payloads are readable on the alert pages: titles, texts and authors as typed.
    const shown: string[] = [];
    for (const { value: alert } of alerts) {
      await page.goto(`${c.url}/#/alerts/${alert.id}`);
      await page.locator('[data-doc]').first().waitFor();
      shown.push(...(await page.locator('[data-doc]').allTextContents()));
    }
    const all = shown.join('\n');
    for (const text of [PAYLOADS.script, PAYLOADS.textarea, PAYLOADS.img, PAYLOADS.svg, PAYLOADS.anchor, PAYLOADS.iframe]) expect(all).toContain(text);
    // Keywords still marked inside hostile titles.
    expect(await page.locator('[data-doc] mark').count()).toBeGreaterThan(0);

    // Rules → test on text with the payloads pasted in.
    await page.goto(`${c.url}/#/rules`);
    await page.locator('[data-validation=valid]').waitFor();
    await page.locator('[data-rule-test] input[name=title]').fill(`化工厂爆炸 ${PAYLOADS.svg}`);
    await page.locator('[data-rule-test] textarea[name=text]').fill(`${PAYLOADS.textarea} 化工厂爆炸 ${PAYLOADS.img} ${PAYLOADS.script}`);
    await page.locator('[data-rule-test] button[type=submit]').click();
    const result = page.locator('[data-topic-result=chemical-blast]');
    await result.waitFor();
    expect(await result.textContent()).toContain(PAYLOADS.img);
    expect(await result.textContent()).toContain(PAYLOADS.svg);
    expectClean(watched, await injected(page));

    // The payload in the editor itself: a </textarea> breakout stays inside the textarea.
    const editor = page.locator('[data-rule-editor]');
    await editor.fill(`${TOPICS}# ${PAYLOADS.textarea}${PAYLOADS.img}\n`);
    await page.locator('[data-validation]:not([data-validation=checking])').waitFor();
    expect(await editor.inputValue()).toContain(PAYLOADS.textarea);
    expectClean(watched, await injected(page));
    await watched.context.close();
  });
});
