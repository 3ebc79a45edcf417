import { existsSync } from 'node:fs';
import { articleLinks } from '../../collectors/sources/news';
import { Document } from '../../core/records';
import { fixture } from '../fixtures/collectors/server';
import { collectorConfig, harness, useFixtureServer } from './helpers';

const fixtures = useFixtureServer();

const now = new Date('2025-09-13T09:00:00+08:00');

describe('news sites (CheerioCrawler on the fetch layer)', () => {
  it('discovers article links on a GBK list page and extracts each article', async () => {
    const h = harness(collectorConfig([{ type: 'news', name: '搜狐公益', list_urls: [fixtures().url('/news/list.html')] }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    // The 404 article is counted and logged, the others are whole documents.
    expect(report).toMatchObject({ failed: false, documents: 3, pageFailures: 1 });
    const byTitle = Object.fromEntries(h.documents.map((d) => [d.title, d]));
    expect(Object.keys(byTitle).sort()).toEqual(['思源焦点公益基金救助孩子：永康', '康师傅回应转卖废弃茶叶：下家承诺用废料做枕头', '深圳地铁将设立ＶＩＰ 头等车厢 买双倍票可享坐票'.replace('ＶＩＰ 头', 'ＶＩＰ头')].sort());
    const metro = byTitle['深圳地铁将设立ＶＩＰ头等车厢 买双倍票可享坐票']!;
    expect(metro).toMatchObject({ platform: 'news', source: '搜狐公益', author: '刘凡', published_at: '2012-07-06T08:12:00+08:00', url: fixtures().url('/20120706/n347457739.shtml') });
    expect(metro.text).toContain('深圳今后将设地铁ＶＩＰ头等车厢');
    // Boilerplate around the body stays out.
    expect(metro.text).not.toMatch(/相关新闻|我来说两句|分享到微博|Copyright/);
    // Served as UTF-8 in the header while the bytes are GBK: still read right.
    const tea = byTitle['康师傅回应转卖废弃茶叶：下家承诺用废料做枕头']!;
    expect(tea).toMatchObject({ author: '刘俊', published_at: '2012-06-29T07:30:00+08:00' });
    expect(tea.text).toContain('我们也是受害者');
    for (const d of h.documents) expect(Document.safeParse(d).success).toBe(true);
    expect(fixtures().hits('/hostile/huge')).toBe(0);
  });

  it('falls back to generic extraction on a page with no configured selectors (gzip, 来源 line, meta time)', async () => {
    const h = harness(collectorConfig([{ type: 'news', name: '央视网', list_urls: [fixtures().url('/cctv/list.html')] }]), { now });
    await h.collection.runOnce();
    await h.collection.stop();
    expect(h.documents).toHaveLength(1);
    expect(h.documents[0]).toMatchObject({ title: '巴称以军袭击一天内致53人死亡 以总理称不会有巴勒斯坦国', author: '央视网', author_tier: 'central', published_at: '2025-09-12T19:31:21+08:00' });
    expect(h.documents[0]!.text).toMatch(/^央视网消息（新闻联播）：11日/);
    expect(h.documents[0]!.text).not.toMatch(/热点推荐|责任编辑/);
  });

  it('uses configured selectors for links and article parts', async () => {
    const h = harness(
      collectorConfig([
        {
          type: 'news',
          name: '搜狐公益',
          list_urls: [fixtures().url('/news/list.html')],
          links: { selector: 'ul.news-list li a', pattern: 'n34' },
          article: { title: 'h1', time: '#pubtime_baidu', source: '#media_span', author: '.writer', body: '#contentText', remove: ['.editor'] },
        },
      ]),
      { now },
    );
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ documents: 3, pageFailures: 0 });
    for (const d of h.documents) expect(d.text).not.toContain('责任编辑');
  });

  it('does not fetch articles it already emitted', async () => {
    const h = harness(collectorConfig([{ type: 'news', name: '搜狐公益', list_urls: [fixtures().url('/news/list.html')] }]), { now });
    await h.collection.runOnce();
    await h.collection.runOnce();
    await h.collection.stop();
    expect(h.documents).toHaveLength(3);
    expect(fixtures().hits('/20120706/n347457739.shtml')).toBe(1);
    expect(fixtures().hits('/news/list.html')).toBe(2);
  });

  it('survives hostile article links: a 20 MB page and a redirect loop are counted, the good article still comes out', async () => {
    fixtures().override('/hostile/list.html', (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<ul><li><a href="/hostile/huge">很大的页面</a></li><li><a href="/hostile/loop-a">转来转去的页面</a></li><li><a href="/20120706/n347457739.shtml">深圳地铁将设立头等车厢</a></li></ul>`);
    });
    const h = harness(collectorConfig([{ type: 'news', name: '恶意站点', list_urls: [fixtures().url('/hostile/list.html')], links: { selector: 'ul a' } }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, documents: 1, pageFailures: 2 });
    const metrics = await h.metrics.metrics();
    expect(metrics).toMatch(/shaobing_collector_page_failures_total\{source="恶意站点",platform="news",code="SB_COLLECT_TOO_LARGE"\} 1/);
    expect(metrics).toMatch(/shaobing_collector_page_failures_total\{source="恶意站点",platform="news",code="SB_COLLECT_REDIRECTS"\} 1/);
  });

  it('a list page that cannot be read fails the round', async () => {
    const h = harness(collectorConfig([{ type: 'news', name: 'gone', list_urls: [fixtures().url('/no-such-list.html')] }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, documents: 0, error: { code: 'SB_COLLECT_HTTP_STATUS' } });
  });

  it('finds article-like links only, on the same site', () => {
    const links = articleLinks(fixture('news/list.html'), 'http://gongyi.sohu.com/news/list.html', { sameSite: true, max: 50 });
    expect(links).toEqual([
      'http://gongyi.sohu.com/20120706/n347457739.shtml',
      'http://gongyi.sohu.com/20120612/n345424232.shtml',
      'http://gongyi.sohu.com/20120629/n346847569.shtml',
      'http://gongyi.sohu.com/20120701/n000000404.shtml',
    ]);
  });
});

const haveChromium = existsSync('/usr/bin/chromium');

(haveChromium ? describe : describe.skip)('pages built by script (PlaywrightCrawler, system Chromium)', () => {
  it('renders the list and the articles before reading them', async () => {
    const h = harness(collectorConfig([{ type: 'news', name: '央视网滚动', render: true, list_urls: [fixtures().url('/render/list')] }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, documents: 2, pageFailures: 0 });
    const titles = h.documents.map((d) => d.title).sort();
    expect(titles).toEqual(['国际联播快讯：匈牙利总理称欧盟当前战略注定失败', '巴称以军袭击一天内致53人死亡 以总理称不会有巴勒斯坦国']);
    expect(h.documents.find((d) => d.title.startsWith('巴称'))).toMatchObject({ author: '央视网', published_at: '2025-09-12T19:31:21+08:00' });
    // The raw HTML holds none of this text: it only exists after the scripts ran.
    expect(fixture('news/rendered-article.html')).not.toContain('加沙');
  }, 90_000);
});
