import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentIdForComment, documentIdForPost } from '../../collectors/document';
import { postsOf, weiboText } from '../../collectors/sources/weibo';
import { Document } from '../../core/records';
import { fixture } from '../fixtures/collectors/server';
import { collectorConfig, harness, useFixtureServer } from './helpers';

const fixtures = useFixtureServer();

const now = new Date('2020-01-01T15:00:00+08:00');
const weibo = (extra: Record<string, unknown> = {}) => ({ type: 'weibo' as const, name: '微博·央视新闻', api_base: fixtures().base, passport_base: fixtures().base, ...extra });

describe('Weibo mobile API', () => {
  it('reads card_type 9 cards and card_group containers, in order', () => {
    const answer = JSON.parse(fixture('weibo/search-1.json')) as { data: { cards: [] } };
    expect(postsOf(answer.data.cards).map((p) => p.bid)).toEqual(['InqPrhk0r', 'Inr3SgJId', 'yC8Kt9U3N']);
  });

  it('turns post HTML into plain text with topics, mentions and emoticons kept', () => {
    const html = '【<a href="https://m.weibo.cn/search?containerid=231522"><span class="surl-text">#话题#</span></a>】好<br />文 <a href=\'/n/朱广权\'>@朱广权</a> <span class="url-icon"><img alt=[泪] src="x.png"></span>...<a href="/status/1">全文</a>';
    expect(weiboText(html)).toBe('【#话题#】好\n文 @朱广权 [泪]');
  });

  it('searches a keyword: expands long posts, links reposts to originals, parses counts and times', async () => {
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'] })]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, pageFailures: 0 });
    for (const d of h.documents) expect(Document.safeParse(d).success).toBe(true);
    const byBid = Object.fromEntries(h.documents.map((d) => [d.url.split('/').pop(), d]));
    expect(Object.keys(byBid).sort()).toEqual(['InqPrhk0r', 'Inr3SgJId', 'Inrq3dbej', 'yBmepBtUB', 'yC8Kt9U3N', 'yC8Kt9U3Z'].sort());

    expect(byBid.InqPrhk0r).toMatchObject({
      id: documentIdForPost('weibo', '4456240512345678'),
      platform: 'weibo',
      author: '央视新闻',
      author_verified: true,
      author_tier: 'verified',
      published_at: '2020-01-01T08:55:00+08:00',
      metrics: { reposts: 2903, comments: 1364, likes: 14000, author_followers: 130_000_000 },
    });
    expect(byBid.InqPrhk0r!.text).toBe('【快看！#糯米在自己滚糖霜#】糯米团子它长大了，应该学会自己滚糖霜了刚出锅的“糯米糍”，想要的转起！iPanda熊猫频道的微博视频 @iPanda熊猫频道');

    // Long post: the full text from /statuses/extend, "100万+" as a number.
    expect(byBid.Inr3SgJId!.text).toContain('你是机遇的过客还是机遇的主人，看你自己！');
    expect(byBid.Inr3SgJId!.text).not.toContain('全文');
    expect(byBid.Inr3SgJId!.metrics?.reposts).toBe(1_000_000);
    expect(fixtures().hits('/statuses/extend')).toBe(1);

    // The repost points at its original, which is emitted too; a deleted original is only pointed at.
    expect(byBid.yC8Kt9U3N).toMatchObject({ parent_id: byBid.yBmepBtUB!.id, published_at: '2020-01-01T14:55:00+08:00' });
    expect(byBid.yBmepBtUB!.text).toContain('[蜡烛]\n底层民众的医疗费用猛于虎');
    expect(byBid.yBmepBtUB).toMatchObject({ author_verified: false, author_tier: 'ordinary', metrics: { reposts: 1024, author_followers: 227833 } });
    expect(byBid.yC8Kt9U3Z).toMatchObject({ parent_id: documentIdForPost('weibo', '4456000000000999'), published_at: '2020-01-01T15:00:00+08:00' });
    expect(h.documents.some((d) => d.id === documentIdForPost('weibo', '4456000000000999'))).toBe(false);
    expect(byBid.Inrq3dbej!.published_at).toBe('2019-12-31T23:10:00+08:00');

    // Paged until Weibo said there was nothing more.
    expect(fixtures().requests.filter((r) => r.startsWith('/api/container/getIndex')).length).toBe(3);
  });

  it('gets a visitor cookie when none is configured, and sends a configured one as is', async () => {
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'] })]), { now });
    await h.collection.runOnce();
    await h.collection.stop();
    expect(fixtures().hits('/visitor/genvisitor')).toBe(1);
    expect(fixtures().lastHeaders('/api/container/getIndex')?.cookie).toBe('SUB=_2AkMRvisitor1; SUBP=0033WrSXqPxfM72-Ws9jqgMF55529P9D9W5visitor');
    expect(fixtures().lastHeaders('/api/container/getIndex')?.['mweibo-pwa']).toBe('1');

    fixtures().reset();
    const h2 = harness(collectorConfig([weibo({ keywords: ['央视新闻'], cookie: 'SUB=logged-in' })]), { now });
    await h2.collection.runOnce();
    await h2.collection.stop();
    expect(fixtures().hits('/visitor/genvisitor')).toBe(0);
    expect(fixtures().lastHeaders('/api/container/getIndex')?.cookie).toBe('SUB=logged-in');
  });

  it('reads a user timeline by since_id, and the pinned post does not stop the paging', async () => {
    const h = harness(collectorConfig([weibo({ users: ['2656274875'] })]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report!.failed).toBe(false);
    expect(h.documents.map((d) => d.url.split('/').pop())).toEqual(['HzTop0001', 'InryIrK4p', 'InqPrhk0r', 'InOld0006']);
    expect(fixtures().requests.filter((r) => r.includes('since_id=4456240512345677'))).toHaveLength(1);
  });

  it('does not re-emit on the next round', async () => {
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'] })]), { now });
    await h.collection.runOnce();
    const count = h.documents.length;
    fixtures().reset();
    const [second] = await h.collection.runOnce();
    await h.collection.stop();
    expect(second!.documents).toBe(0);
    expect(h.documents).toHaveLength(count);
  });

  it('splits a search capped by the page limit into hour windows back to the previous round', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-weibo-'));
    mkdirSync(join(dataDir, 'collectors'), { recursive: true });
    // The previous round reached 06:00; page 1 alone goes back to 08:55.
    writeFileSync(
      join(dataDir, 'collectors', `${encodeURIComponent('微博·央视新闻')}.json`),
      JSON.stringify({ version: 1, source: '微博·央视新闻', saved_at: now.toISOString(), cursors: { 'kw:央视新闻': '2020-01-01T06:00:00+08:00' }, validators: {}, seen: [] }),
    );
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'], max_pages: 1 })], {}, dataDir), { now, persistState: true });
    await h.collection.runOnce();
    await h.collection.stop();
    const windows = fixtures().requests.filter((r) => decodeURIComponent(r).includes('timescope=custom:')).map((r) => /timescope=(custom:[^&]+)/.exec(decodeURIComponent(r))![1]);
    expect(windows).toEqual(['custom:2020-01-01-7:2020-01-01-8', 'custom:2020-01-01-6:2020-01-01-7', 'custom:2020-01-01-5:2020-01-01-6', 'custom:2020-01-01-5:2020-01-01-5']);
  });

  it.each([
    ['http432', /HTTP 432/],
    ['http418', /HTTP 418/],
    ['captcha', /captcha/],
    ['login', /ok: -100/],
  ] as const)('recognises a block (%s): the round stops, health says blocked, operators are told', async (mode, message) => {
    fixtures().weiboMode = mode;
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'], users: ['2656274875'] })]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, blocked: true, documents: 0, error: { code: 'SB_COLLECT_BLOCKED' } });
    expect(report!.error!.message).toMatch(message);
    // One request, then the source stops: no hammering a platform that said no.
    expect(fixtures().hits('/api/container/getIndex')).toBe(1);
    expect(h.collection.health.get('微博·央视新闻')).toMatchObject({ status: 'blocked', error_streak: 1 });
    expect(h.notices).toHaveLength(1);
    expect(h.notices[0]).toMatchObject({ kind: 'source_blocked', source: '微博·央视新闻', platform: 'weibo', error_code: 'SB_COLLECT_BLOCKED' });
  });

  it('truncated JSON is a failed page, never a half-parsed document', async () => {
    fixtures().weiboMode = 'truncated';
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'] })]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, blocked: false, documents: 0, pageFailures: 1, error: { code: 'SB_COLLECT_MALFORMED' } });
    expect(h.documents).toHaveLength(0);
  });
});

describe('Weibo comments (comments/hotflow)', () => {
  const NINGBO = documentIdForPost('weibo', '4456000000000001');
  const withComments = (comments: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    weibo({ keywords: ['央视新闻'], comments: { enabled: true, min_post_comments: 1, ...comments }, ...extra });
  const hotflow = () => fixtures().requests.filter((r) => r.startsWith('/comments/hotflow'));
  const commentsOf = (docs: Document[]) => docs.filter((d) => d.parent_id === NINGBO && d.url.includes('?cid='));

  it('are off unless a source turns them on', async () => {
    const h = harness(collectorConfig([weibo({ keywords: ['央视新闻'] })]), { now });
    await h.collection.runOnce();
    await h.collection.stop();
    expect(hotflow()).toHaveLength(0);
  });

  it('become documents linked to their post, paged by max_id, HTML read as text', async () => {
    const h = harness(collectorConfig([withComments()]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: false, pageFailures: 0 });
    for (const d of h.documents) expect(Document.safeParse(d).success).toBe(true);
    const comments = commentsOf(h.documents);
    // Two pages of the 宁波 post (5 + 3); the reply preview inside the first comment is not a comment of the post.
    expect(comments).toHaveLength(8);
    expect(hotflow()).toContain('/comments/hotflow?id=4456000000000001&mid=4456000000000001&max_id=139285869587123&max_id_type=0');
    expect(comments[0]).toMatchObject({
      id: documentIdForComment('weibo', '4456010100000001'),
      platform: 'weibo',
      source: '微博·央视新闻',
      url: 'https://m.weibo.cn/detail/4456000000000001?cid=4456010100000001',
      text: '国家必须面对和值得重视的问题！！',
      author: '不再沉默的大多数',
      author_tier: 'ordinary',
      published_at: '2020-01-01T10:05:12+08:00',
      metrics: { likes: 1284, comments: 31, author_followers: 1520 },
    });
    const byId = Object.fromEntries(comments.map((c) => [c.id, c]));
    expect(byId[documentIdForComment('weibo', '4456010100000002')]!.metrics?.author_followers).toBe(12_000);
    expect(byId[documentIdForComment('weibo', '4456010100000003')]).toMatchObject({ author_verified: true, author_tier: 'verified' });
    expect(byId[documentIdForComment('weibo', '4456010100000004')]!.text).toBe('人间悲剧 可怜啊[蜡烛]');
    expect(byId[documentIdForComment('weibo', '4456010100000005')]!.text).toMatch(/^@宁波热线网友 这个不是谣言/);
    // Every post with comments was asked once; the others answered "快来发表你的评论吧" (ok: 0).
    expect(new Set(hotflow().map((r) => new URL(r, 'http://x').searchParams.get('mid')))).toEqual(new Set(['4456240512345678', '4456292411234567', '4456000000000001', '4456100000000004']));
  });

  it('keep to the per-post and per-round limits', async () => {
    const perPost = harness(collectorConfig([withComments({ per_post: 3 })]), { now });
    await perPost.collection.runOnce();
    await perPost.collection.stop();
    expect(commentsOf(perPost.documents)).toHaveLength(3);
    expect(hotflow().filter((r) => r.includes('max_id=139285869587123'))).toHaveLength(0);

    fixtures().reset();
    const perRound = harness(collectorConfig([withComments({ per_round: 6 })]), { now });
    await perRound.collection.runOnce();
    await perRound.collection.stop();
    expect(commentsOf(perRound.documents)).toHaveLength(6);
  });

  it('survive a restart: none re-emitted, a post read again only when its count grew, then only the new ones', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-weibo-comments-'));
    const config = collectorConfig([withComments({ per_post: 3 })], {}, dataDir);
    const first = harness(config, { now, persistState: true });
    await first.collection.runOnce();
    await first.collection.stop();
    const firstIds = commentsOf(first.documents).map((d) => d.id);
    expect(firstIds).toHaveLength(3);

    fixtures().reset();
    const second = harness(config, { now, persistState: true });
    await second.collection.runOnce();
    await second.collection.stop();
    expect(second.documents).toHaveLength(0);
    expect(hotflow().filter((r) => r.includes('mid=4456000000000001'))).toHaveLength(0);

    // The post gained a comment: read again; the three already emitted are skipped, the next three come out.
    fixtures().reset();
    fixtures().override('/api/container/getIndex', (_q, res, url) => {
      const page = url.searchParams.get('page') === '1' ? fixture('weibo/search-1.json').replace('"comments_count": 311', '"comments_count": 312') : fixture('weibo/search-empty.json');
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(page);
    });
    const third = harness(config, { now, persistState: true });
    await third.collection.runOnce();
    await third.collection.stop();
    const thirdIds = commentsOf(third.documents).map((d) => d.id);
    expect(thirdIds).toHaveLength(3);
    expect(thirdIds.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(hotflow().filter((r) => r.includes('max_id=139285869587123'))).toHaveLength(1);
  });

  it.each([
    ['HTTP 432', (res: ServerResponse): void => void res.writeHead(432).end(), /HTTP 432/],
    ['ok: -100', (res: ServerResponse): void => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":-100,"url":"https://passport.weibo.cn/signin/welcome"}'), /ok: -100/],
  ] as const)('a block on comments (%s) stops the round and is reported; the posts read before still come out', async (_name, answer, message) => {
    fixtures().override('/comments/hotflow', (_q, res) => answer(res));
    const h = harness(collectorConfig([withComments()]), { now });
    const [report] = await h.collection.runOnce();
    await h.collection.stop();
    expect(report).toMatchObject({ failed: true, blocked: true, error: { code: 'SB_COLLECT_BLOCKED' } });
    expect(report!.error!.message).toMatch(message);
    expect(hotflow()).toHaveLength(1);
    expect(h.documents.length).toBeGreaterThan(0);
    expect(commentsOf(h.documents)).toHaveLength(0);
    expect(h.notices[0]).toMatchObject({ kind: 'source_blocked', source: '微博·央视新闻' });
  });
});
