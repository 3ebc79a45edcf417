import { canonicalUrl, documentIdForPost, documentIdForUrl, parseChineseTime, parseCount, titleFromText } from '../../collectors/document';
import { formatIsoInZone } from '../../core/time';
import { decodeBody, normaliseCharset } from '../../collectors/charset';
import { htmlToText, sanitizeArticleHtml } from '../../collectors/html';
import { firstDelayMs, nextDelayMs } from '../../collectors/scheduler';
import iconv from 'iconv-lite';

const now = new Date('2024-03-05T12:00:00+08:00');

describe('parseChineseTime', () => {
  it.each([
    ['2024年03月05日 10:20', '2024-03-05T10:20:00+08:00'],
    ['2024年3月5日10:20', '2024-03-05T10:20:00+08:00'],
    ['发布时间：2024-03-05 10:20:33', '2024-03-05T10:20:33+08:00'],
    ['2024-03-05 10:20:33 来源：新华网', '2024-03-05T10:20:33+08:00'],
    ['２０２４年０３月０５日　１０：２０', '2024-03-05T10:20:00+08:00'],
    ['2024/3/5', '2024-03-05T00:00:00+08:00'],
    ['2024-03-05T02:20:00Z', '2024-03-05T10:20:00+08:00'],
    ['2024-03-05T10:20:00+08:00', '2024-03-05T10:20:00+08:00'],
    ['Sun Apr 22 09:08:06 +0800 2018', '2018-04-22T09:08:06+08:00'],
    ['Tue, 05 Mar 2024 10:20:00 +0800', '2024-03-05T10:20:00+08:00'],
    ['Tue, 05 Mar 2024 02:20:00 GMT', '2024-03-05T10:20:00+08:00'],
    // Chinese feeds write CST meaning China Standard Time, not US Central.
    ['Tue, 05 Mar 2024 10:20:00 CST', '2024-03-05T10:20:00+08:00'],
    ['刚刚', '2024-03-05T12:00:00+08:00'],
    ['30秒前', '2024-03-05T11:59:30+08:00'],
    ['5分钟前', '2024-03-05T11:55:00+08:00'],
    ['2小时前', '2024-03-05T10:00:00+08:00'],
    ['今天 08:05', '2024-03-05T08:05:00+08:00'],
    ['昨天 23:10', '2024-03-04T23:10:00+08:00'],
    ['前天 07:00', '2024-03-03T07:00:00+08:00'],
    ['03-04', '2024-03-04T00:00:00+08:00'],
    ['3月4日 10:20', '2024-03-04T10:20:00+08:00'],
    // A month-day later than today is last year's.
    ['12-31', '2023-12-31T00:00:00+08:00'],
    ['1710913200', '2024-03-20T13:40:00+08:00'],
  ])('%s → %s', (input, expected) => {
    expect(parseChineseTime(input, { now })).toBe(expected);
  });

  it('returns undefined for text that holds no time, and for impossible dates', () => {
    for (const input of ['来源：新华网', '', '2024年13月45日', 'Foo Bar', undefined]) expect(parseChineseTime(input, { now })).toBeUndefined();
  });

  it('reads times without an offset in the configured zone', () => {
    expect(parseChineseTime('2024-03-05 10:20', { now, timeZone: 'Europe/Berlin' })).toBe('2024-03-05T10:20:00+01:00');
    expect(parseChineseTime('2024-07-05 10:20', { now, timeZone: 'Europe/Berlin' })).toBe('2024-07-05T10:20:00+02:00');
    expect(formatIsoInZone(Date.UTC(2024, 0, 1, 0, 0, 0), 'Asia/Shanghai')).toBe('2024-01-01T08:00:00+08:00');
  });
});

describe('parseCount', () => {
  it.each([
    ['100万+', 1_000_000],
    ['1.2万', 12_000],
    ['3亿', 300_000_000],
    ['1.3亿', 130_000_000],
    ['1,234', 1234],
    ['2k', 2000],
    [42, 42],
    ['０', 0],
  ])('%s → %d', (input, expected) => expect(parseCount(input)).toBe(expected));

  it('is undefined for labels and junk', () => {
    for (const input of ['转发', '评论', '', null, -1, 'abc万']) expect(parseCount(input)).toBeUndefined();
  });
});

describe('canonical URLs and ids', () => {
  it('strips tracking parameters and the fragment, sorts the rest', () => {
    expect(canonicalUrl('https://news.example.cn/a/2024/0305/c1.html?utm_source=wx&spm=a.b&id=3&b=2&from=timeline#top')).toBe('https://news.example.cn/a/2024/0305/c1.html?b=2&id=3');
  });

  it('keeps only __biz, mid, idx and sn of WeChat article URLs', () => {
    expect(canonicalUrl('https://mp.weixin.qq.com/s?__biz=MzA5&mid=2651&idx=1&sn=abc&chksm=xx&scene=27#wechat_redirect')).toBe('https://mp.weixin.qq.com/s?__biz=MzA5&mid=2651&idx=1&sn=abc');
    expect(canonicalUrl('https://mp.weixin.qq.com/s/AbCdEf?scene=1')).toBe('https://mp.weixin.qq.com/s/AbCdEf');
  });

  it('refuses anything but absolute http(s)', () => {
    expect(canonicalUrl('javascript:alert(1)')).toBeUndefined();
    expect(canonicalUrl('/relative')).toBeUndefined();
    expect(canonicalUrl('/relative', 'https://a.cn/x/')).toBe('https://a.cn/relative');
  });

  it('gives the same id to the same page whatever the tracking or scheme, and 32 hex chars', () => {
    const id = documentIdForUrl('https://a.cn/x.html');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(documentIdForUrl('http://a.cn/x.html?utm_source=feed')).toBe(id);
    expect(documentIdForUrl('https://a.cn/y.html')).not.toBe(id);
    expect(documentIdForPost('weibo', '4456240512345678')).toBe(documentIdForPost('weibo', '4456240512345678'));
    expect(documentIdForPost('weibo', '1')).not.toBe(documentIdForPost('wechat', '1'));
  });

  it('makes a title of the first line, cut at 60 characters', () => {
    expect(titleFromText('短句\n第二行')).toBe('短句');
    expect([...titleFromText('长'.repeat(80))]).toHaveLength(61);
  });
});

describe('charset detection', () => {
  const text = '<html><head><meta charset="gb2312"><title>新闻</title></head><body>深圳地铁将设立头等车厢</body></html>';
  it('reads the meta declaration when the header has none', () => {
    const d = decodeBody(iconv.encode(text, 'gbk'), 'text/html');
    expect(d).toMatchObject({ charset: 'gb18030', source: 'meta' });
    expect(d.text).toContain('深圳地铁将设立头等车厢');
  });

  it('distrusts a UTF-8 header on GBK bytes, and a GBK declaration on UTF-8 bytes', () => {
    expect(decodeBody(iconv.encode(text, 'gbk'), 'text/html; charset=utf-8').text).toContain('深圳地铁');
    expect(decodeBody(Buffer.from(text, 'utf8'), 'text/html; charset=gbk').text).toContain('深圳地铁');
  });

  it('follows a BOM, sniffs undeclared GBK, and decodes Big5', () => {
    expect(decodeBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('你好')]), 'text/html; charset=gbk')).toMatchObject({ text: '你好', source: 'bom' });
    const undeclared = iconv.encode('<p>据现场网友称妇女因小孩病重，加上负担不起昂贵的医疗费，带着刚满月的宝宝从楼上跳下。</p>', 'gbk');
    expect(decodeBody(undeclared)).toMatchObject({ charset: 'gb18030', source: 'sniffed' });
    expect(decodeBody(iconv.encode('新聞報導', 'big5'), 'text/html; charset=big5').text).toBe('新聞報導');
    expect(normaliseCharset('GB2312')).toBe('gb18030');
    expect(normaliseCharset('x-unknown-thing')).toBeUndefined();
  });
});

describe('HTML to text, and sanitised HTML', () => {
  it('keeps text, drops scripts and styles, decodes entities, one line per paragraph', () => {
    expect(htmlToText('<p>第一段&nbsp;&ldquo;引号&rdquo;</p><script>alert(1)</script><style>p{}</style><p>\u3000\u3000第二段<br/>换行</p>')).toBe('第一段 “引号”\n第二段\n换行');
  });

  it('allows structure, http(s) links and lazy images only', () => {
    const html = sanitizeArticleHtml('<p onclick="x()">文<a href="javascript:alert(1)">坏</a><a href="/ok">好</a><img data-src="https://img.cn/1.jpg" src="data:,"><iframe src="https://evil"></iframe><script>1</script></p>', 'https://a.cn/x/');
    expect(html).toBe('<p>文<a>坏</a><a href="https://a.cn/ok">好</a><img src="https://img.cn/1.jpg" /></p>');
  });
});

describe('schedules', () => {
  it('waits the interval ± jitter, doubles after failures up to the cap', () => {
    expect(nextDelayMs({ intervalMs: 60_000, jitterRatio: 0.2, errorStreak: 0, maxBackoffMs: 3_600_000, random: 0.5 })).toBe(60_000);
    expect(nextDelayMs({ intervalMs: 60_000, jitterRatio: 0.2, errorStreak: 0, maxBackoffMs: 3_600_000, random: 0 })).toBe(48_000);
    expect(nextDelayMs({ intervalMs: 60_000, jitterRatio: 0.2, errorStreak: 0, maxBackoffMs: 3_600_000, random: 0.999999 })).toBeLessThanOrEqual(72_000);
    expect(nextDelayMs({ intervalMs: 60_000, jitterRatio: 0, errorStreak: 3, maxBackoffMs: 3_600_000, random: 0.5 })).toBe(480_000);
    expect(nextDelayMs({ intervalMs: 60_000, jitterRatio: 0, errorStreak: 30, maxBackoffMs: 3_600_000, random: 0.5 })).toBe(3_600_000);
    expect(firstDelayMs(600_000, 0.2, 0.5)).toBe(6_000);
  });
});
