import { Document } from '../../core/records';
import { collectorConfig, harness, useFixtureServer } from './helpers';

const fixtures = useFixtureServer();

const now = new Date('2020-03-07T09:00:00+08:00');

describe('RSS and Atom', () => {
  it('reads a GB2312 RSS 2.0 feed: titles, text, times (RFC 822, "CST", Chinese form) and tracking-free URLs', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: '武汉卫健委', url: fixtures().url('/rss/feed-gbk.xml'), full_article: 'never' }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, documents: 3, pageFailures: 0 });
    for (const d of h.documents) expect(Document.safeParse(d).success).toBe(true);
    expect(h.documents.map((d) => [d.title, d.published_at])).toEqual([
      ['武汉发现 27 例肺炎病例', '2019-12-31T13:38:05+08:00'],
      ['武汉共发现病毒性肺炎诊断患者 44 例', '2020-01-03T17:00:42+08:00'],
      ['武汉共发现病毒性肺炎诊断患者 59 例', '2020-01-05T20:33:24+08:00'],
    ]);
    expect(h.documents[0]).toMatchObject({
      platform: 'rss',
      source: '武汉卫健委',
      url: fixtures().url('/front/web/showDetail/2019123108989'),
      author: '武汉市卫健委',
      fetched_at: '2020-03-07T09:00:00+08:00',
      lang: 'zh',
    });
    expect(h.documents[0]!.text).toMatch(/^近期部分医疗机构发现接诊的多例肺炎病例与华南海鲜城有关联/);
  });

  it('polls with ETag / Last-Modified: an unchanged feed costs one 304 and emits nothing', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: 'feed', url: fixtures().url('/rss/feed-gbk.xml'), full_article: 'never' }]), { now });
    await h.collection.runOnce();
    const second = await h.collection.runOnce();
    await h.collection.stop();
    expect(second[0]).toMatchObject({ failed: false, documents: 0 });
    expect(h.documents).toHaveLength(3);
    expect(fixtures().lastHeaders('/rss/feed-gbk.xml')?.['if-none-match']).toBe('"feed-gbk-v1"');
  });

  it('fetches the article when the feed carries only a summary', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: '搜狐公益', url: fixtures().url('/rss/summary-feed.xml') }]), { now });
    await h.collection.runOnce();
    await h.collection.stop();
    expect(h.documents).toHaveLength(2);
    const [a, b] = h.documents;
    expect(a!.text).toContain('论坛上，深圳市政府副秘书长、轨道交通建设办公室主任赵鹏林透露');
    expect(a).toMatchObject({ author: '刘凡', published_at: '2012-07-06T08:12:00+08:00' });
    expect(b!.text).toContain('永康在思源焦点公益基金的帮助下在医院接受手术治疗');
    expect(fixtures().hits('/20120706/n347457739.shtml')).toBe(1);
  });

  it('reads Atom: content over summary, scripts gone, html only sanitised, a failed article fetch keeps the summary', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: '丁香园辟谣', url: fixtures().url('/rss/atom.xml'), keep_html: true }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    // /rumors/184 is not served: counted, and the feed's own text is emitted.
    expect(report).toMatchObject({ failed: false, documents: 2, pageFailures: 1 });
    const [a, b] = h.documents;
    expect(a).toMatchObject({ title: '疫情期间大强度锻炼可提高抵抗力？', author: '国家体育总局体育科学研究所', published_at: '2020-03-06T11:03:02+08:00' });
    expect(a!.text).not.toContain('alert');
    expect(a!.html).not.toMatch(/script/i);
    expect(b).toMatchObject({ url: fixtures().url('/rumors/182'), published_at: '2020-03-06T18:00:00+08:00' });
    expect(b!.text).toContain('丁香医生团队辟谣');
  });

  it('a truncated feed fails the round with SB_COLLECT_MALFORMED and emits nothing', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: 'broken', url: fixtures().url('/rss/truncated.xml') }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, documents: 0, error: { code: 'SB_COLLECT_MALFORMED', url: fixtures().url('/rss/truncated.xml') } });
    expect(h.documents).toHaveLength(0);
  });

  it('stops at max_items_per_run and takes the rest next round (no 304 in between)', async () => {
    const h = harness(collectorConfig([{ type: 'rss', name: 'feed', url: fixtures().url('/rss/feed-gbk.xml'), full_article: 'never', max_items_per_run: 2 }]), { now });
    expect((await h.collection.runOnce())[0]!.documents).toBe(2);
    expect((await h.collection.runOnce())[0]!.documents).toBe(1);
    await h.collection.stop();
    expect(new Set(h.documents.map((d) => d.id)).size).toBe(3);
  });
});
