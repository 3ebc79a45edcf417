import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fixture } from '../fixtures/collectors/server';
import { collectorConfig, harness, useFixtureServer } from './helpers';

/**
 * Rendered pages (PlaywrightCrawler in the system Chromium) obey the fetch layer like static ones:
 * the body cap, the per-host limiter (observed here from the server's side) and the refusal of
 * images, media and fonts.
 */

const fixtures = useFixtureServer();
const now = new Date('2025-09-13T09:00:00+08:00');
const haveChromium = existsSync('/usr/bin/chromium');

const article = (id: number, extra = ''): string =>
  fixture('news/rendered-article.html')
    .replace('{{DATA}}', JSON.stringify({ title: `第${id}篇 巴称以军袭击一天内致53人死亡`, source: '央视网', time: '2025年09月12日 19:31', paras: [`第${id}篇正文：加沙地带卫生部门12日说，过去24小时以军在加沙地带的袭击造成53人死亡。`] }))
    .replace('</body>', `${extra}</body>`);

const html = (res: ServerResponse, body: string, status = 200) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(body);
};

(haveChromium ? describe : describe.skip)('rendered pages on the fetch layer (system Chromium)', () => {
  it('refuses an oversized rendered page with SB_COLLECT_TOO_LARGE and its URL, and keeps the good article', async () => {
    fixtures().override('/r/list', (_q, res) =>
      html(res, `<ul><li><a href="/hostile/huge">很大的页面</a></li><li><a href="/r/article?id=1">巴称以军袭击一天内致53人死亡</a></li></ul>`),
    );
    // Heavy resources on the good page: none of them may be downloaded.
    const heavy = '<img src="/r/photo.jpg"><video src="/r/clip.mp4" autoplay></video><style>@font-face{font-family:x;src:url(/r/font.woff2)}body{font-family:x}</style><iframe src="/r/ad.html"></iframe>';
    fixtures().override('/r/article', (_q, res) => html(res, article(1, heavy)));
    const h = harness(collectorConfig([{ type: 'news', name: '渲染站', render: true, list_urls: [fixtures().url('/r/list')], links: { selector: 'ul a' } }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, documents: 1, pageFailures: 1 });
    expect(h.documents[0]!.text).toContain('第1篇正文');
    expect(await h.metrics.metrics()).toMatch(/shaobing_collector_page_failures_total\{source="渲染站",platform="news",code="SB_COLLECT_TOO_LARGE"\} 1/);
    for (const path of ['/r/photo.jpg', '/r/clip.mp4', '/r/font.woff2', '/r/ad.html']) expect(fixtures().hits(path)).toBe(0);

    // As the list page itself: the round fails, naming the code and the URL.
    const alone = harness(collectorConfig([{ type: 'news', name: '大页面', render: true, list_urls: [fixtures().url('/hostile/huge')] }], { http: { max_body_bytes: 1_000_000 } }), { now });
    const [failed] = await alone.collection.runOnce();
    await alone.collection.stop();
    expect(failed).toMatchObject({ failed: true, documents: 0, error: { code: 'SB_COLLECT_TOO_LARGE', url: fixtures().url('/hostile/huge') } });
    expect(failed!.error!.message).toContain('larger than 1000000 bytes');
  }, 120_000);

  it('takes the per-host limiter slot for every request of a rendered page: never more in flight than it allows', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let requests = 0;
    const slow = (respond: (res: ServerResponse) => void) => (_q: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      requests++;
      // Counted out when the answer is written: the client (in this same process) may read it and
      // send its next request before the server's own 'close' event for this one runs.
      setTimeout(() => {
        inFlight--;
        respond(res);
      }, 150);
    };
    fixtures().override('/r/list', slow((res) => html(res, `<ul>${[1, 2, 3, 4].map((i) => `<li><a href="/r/article?id=${i}">第${i}篇</a></li>`).join('')}</ul>`)));
    fixtures().override('/r/article', (q, res, url) => slow((r) => html(r, article(Number(url.searchParams.get('id')), '<script src="/r/app.js"></script>')))(q, res));
    fixtures().override('/r/app.js', slow((res) => {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      res.end('window.appLoaded = true;');
    }));
    const h = harness(
      collectorConfig([{ type: 'news', name: '限速站', render: true, list_urls: [fixtures().url('/r/list')], links: { selector: 'ul a' } }], {
        http: { per_host_concurrency: 1 },
        browser: { max_pages: 3 },
      }),
      { now },
    );
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, documents: 4, pageFailures: 0 });
    // 1 list + 4 articles + 4 scripts, one at a time although three pages were open at once.
    expect(requests).toBe(9);
    expect(maxInFlight).toBe(1);
  }, 120_000);
});
