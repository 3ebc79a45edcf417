import { parseWechatArticle, sogouRedirectTarget } from '../../collectors/sources/wechat';
import { Document } from '../../core/records';
import { fixture } from '../fixtures/collectors/server';
import { collectorConfig, harness, useFixtureServer } from './helpers';

const fixtures = useFixtureServer();

const now = new Date('2020-03-07T09:00:00+08:00');
const time = { now, timeZone: 'Asia/Shanghai' };

describe('WeChat article pages', () => {
  it('reads title, account, author, var ct, and the #js_content body without hidden parts; lazy images in html', () => {
    const a = parseWechatArticle(fixture('wechat/article-1.html'), 'https://mp.weixin.qq.com/s/AbCd?scene=1', { ...time, keepHtml: true });
    expect(a).toMatchObject({
      url: 'https://mp.weixin.qq.com/s?__biz=MzA3MTg2NDA5Mg%3D%3D&mid=2651234567&idx=1&sn=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6'.replace('https', 'http'),
      title: '疫情期间大强度锻炼可提高抵抗力？',
      account: '丁香医生',
      author: '徐建方',
      published_at: '2020-03-06T11:03:02+08:00',
    });
    expect(a.text).toMatch(/^长时间大强度的运动/);
    expect(a.text).not.toContain('隐藏的推广文字');
    expect(a.html).toContain('<img src="https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg" />');
    expect(a.html).not.toMatch(/style=|data-src/);
  });

  it('reads newer pages whose data sits in window.cgiDataNew', () => {
    const a = parseWechatArticle(fixture('wechat/article-2.html'), 'https://mp.weixin.qq.com/s/xyz', time);
    expect(a).toMatchObject({ title: '吃降压药会增加感染病毒的风险？', account: '丁香医生', author: '丁香医生团队', published_at: '2020-03-06T10:00:00+08:00' });
    expect(a.url).toBe('https://mp.weixin.qq.com/s?__biz=MzA3MTg2NDA5Mg%3D%3D&mid=2651234999&idx=2&sn=ffeeddccbbaa99887766554433221100');
  });

  it('recognises deleted articles and "环境异常" blocks', () => {
    expect(() => parseWechatArticle(fixture('wechat/deleted.html'), 'https://mp.weixin.qq.com/s/gone', time)).toThrow(expect.objectContaining({ code: 'SB_COLLECT_DELETED' }));
    expect(() => parseWechatArticle(fixture('wechat/blocked.html'), 'https://mp.weixin.qq.com/s/x', time)).toThrow(expect.objectContaining({ code: 'SB_COLLECT_BLOCKED' }));
  });

  it("follows Sogou's script-built redirect", () => {
    const html = fixture('wechat/sogou-link.html').replace('{{BASE_H}}', 'https://mp.').replace('{{BASE_T}}', 'weixin.qq.com');
    expect(sogouRedirectTarget(html)).toBe('https://mp.weixin.qq.com/s/article-2?src=11&timestamp=1583460100&ver=2202&signature=jAQ*Tq8I5MrL-Xb7NTv');
  });
});

describe('WeChat collector', () => {
  it('takes article lists from an RSS bridge and from Sogou search, dedups the same article reached both ways', async () => {
    const h = harness(
      collectorConfig([{ type: 'wechat', name: '丁香医生', lists: [{ kind: 'rss', url: fixtures().url('/wechat/bridge.xml') }, { kind: 'sogou', query: '降压药', base_url: fixtures().base }] }]),
      { now },
    );
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    // The deleted article is reported (counted), not emitted, and does not fail the round.
    expect(report).toMatchObject({ failed: false, documents: 2, pageFailures: 1 });
    for (const d of h.documents) expect(Document.safeParse(d).success).toBe(true);
    expect(h.documents.map((d) => [d.platform, d.title, d.author])).toEqual([
      ['wechat', '疫情期间大强度锻炼可提高抵抗力？', '徐建方'],
      ['wechat', '吃降压药会增加感染病毒的风险？', '丁香医生团队'],
    ]);
    expect(fixtures().hits('/link')).toBe(1);
    expect(fixtures().hits('/s/article-2')).toBe(2);
  });

  it('does not fetch a deleted article again next round', async () => {
    const h = harness(collectorConfig([{ type: 'wechat', name: '丁香医生', lists: [{ kind: 'rss', url: fixtures().url('/wechat/bridge.xml') }] }]), { now });
    await h.collection.runOnce();
    await h.collection.runOnce();
    await h.collection.stop();
    expect(fixtures().hits('/s/deleted')).toBe(1);
    expect(fixtures().hits('/s/article-1')).toBe(1);
  });

  it('a "环境异常" page blocks the source and tells operators', async () => {
    fixtures().override('/s/article-1', (_q, res) => {
      res.writeHead(302, { location: '/s/blocked' });
      res.end();
    });
    const h = harness(collectorConfig([{ type: 'wechat', name: '丁香医生', lists: [{ kind: 'rss', url: fixtures().url('/wechat/bridge.xml') }] }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, blocked: true, error: { code: 'SB_COLLECT_BLOCKED' } });
    expect(h.notices.map((n) => n.kind)).toEqual(['source_blocked']);
  });

  it("Sogou's anti-spider page blocks the source", async () => {
    fixtures().override('/weixin', (_q, res) => {
      res.writeHead(302, { location: '/antispider/?from=%2Fweixin%3Ftype%3D2' });
      res.end();
    });
    const h = harness(collectorConfig([{ type: 'wechat', name: '搜狗', lists: [{ kind: 'sogou', query: '降压药', base_url: fixtures().base }] }]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, blocked: true });
  });
});
