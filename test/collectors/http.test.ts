import { CollectorHttpSchema } from '../../collectors/config';
import { CollectError } from '../../collectors/errors';
import { HostLimiter, HttpClient } from '../../collectors/http';
import { startFixtureServer, type FixtureServer } from '../fixtures/collectors/server';
import { FAST_HTTP } from './helpers';

let server: FixtureServer;
let http: HttpClient;

beforeAll(async () => {
  server = await startFixtureServer();
  http = new HttpClient({ config: CollectorHttpSchema.parse({ ...FAST_HTTP, max_body_bytes: 2 * 1024 * 1024, timeout_ms: 1_000 }) });
});
afterAll(async () => {
  await http.close();
  await server.close();
});
afterEach(() => server.reset());

async function failure(p: Promise<unknown>): Promise<CollectError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CollectError);
    return err as CollectError;
  }
  throw new Error('expected a failure');
}

describe('the fetch layer', () => {
  it('refuses a 20 MB chunked page at the cap without buffering it', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const err = await failure(http.fetch(server.url('/hostile/huge')));
    expect(err.code).toBe('SB_COLLECT_TOO_LARGE');
    expect(err.url).toBe(server.url('/hostile/huge'));
    // At most about the cap was held, never the 20 MB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('refuses a body whose declared length is over the cap before reading it', async () => {
    const started = Date.now();
    expect((await failure(http.fetch(server.url('/hostile/huge-declared')))).code).toBe('SB_COLLECT_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('recognises a redirect loop and a chain longer than the limit', async () => {
    const loop = await failure(http.fetch(server.url('/hostile/loop-a')));
    expect(loop.code).toBe('SB_COLLECT_REDIRECTS');
    expect(loop.message).toMatch(/redirect loop/);
    expect((await failure(http.fetch(server.url('/hostile/chain/0')))).message).toMatch(/more than 5 redirects/);
    expect(server.hits('/hostile/loop-a')).toBe(1);
  });

  it('retries 503s with backoff and succeeds on the third attempt', async () => {
    const res = await http.fetch(server.url('/hostile/flaky?key=a'));
    expect(res.text().text).toContain('第三次成功');
    expect(server.hits('/hostile/flaky')).toBe(3);
  });

  it('gives up after max_attempts, with a retriable code', async () => {
    const err = await failure(http.fetch(server.url('/hostile/flaky?key=b'), { maxAttempts: 2 }));
    expect(err).toMatchObject({ code: 'SB_COLLECT_FETCH_FAILED', status: 503, retriable: true });
  });

  it('does not retry a 403 or a 404', async () => {
    expect(await failure(http.fetch(server.url('/hostile/forbidden')))).toMatchObject({ code: 'SB_COLLECT_HTTP_STATUS', status: 403, retriable: false });
    expect(server.hits('/hostile/forbidden')).toBe(1);
  });

  it('times out a slow page', async () => {
    const started = Date.now();
    const err = await failure(http.fetch(server.url('/hostile/slow'), { maxAttempts: 1, timeoutMs: 300 }));
    expect(err.code).toBe('SB_COLLECT_FETCH_FAILED');
    expect(err.message).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection as a retriable fetch failure', async () => {
    const err = await failure(http.fetch('http://127.0.0.1:9/nothing', { maxAttempts: 1 }));
    expect(err).toMatchObject({ code: 'SB_COLLECT_FETCH_FAILED', retriable: true });
  });

  it('does conditional GETs: a matching ETag comes back as not modified', async () => {
    const first = await http.fetch(server.url('/rss/feed-gbk.xml'));
    expect(first.headers.etag).toBe('"feed-gbk-v1"');
    const second = await http.fetch(server.url('/rss/feed-gbk.xml'), { etag: first.headers.etag! });
    expect(second).toMatchObject({ status: 304, notModified: true });
    expect(server.lastHeaders('/rss/feed-gbk.xml')?.['if-none-match']).toBe('"feed-gbk-v1"');
  });

  it('decompresses gzip and decodes GBK declared only in the page', async () => {
    expect((await http.fetch(server.url('/cctv/2025/09/12/ARTIabc250912.shtml'))).text().text).toContain('以色列军队继续袭击');
    const gbk = (await http.fetch(server.url('/news/list.html'))).text();
    expect(gbk).toMatchObject({ charset: 'gb18030', source: 'meta' });
    expect(gbk.text).toContain('思源焦点公益基金救助孩子');
  });

  it('sends the configured user agent and proxy-free requests by default', async () => {
    await http.fetch(server.url('/news/list.html'), { userAgent: 'ShaobingTest/1' });
    expect(server.lastHeaders('/news/list.html')?.['user-agent']).toBe('ShaobingTest/1');
  });
});

describe('per-host limits', () => {
  it('keeps at most N requests in flight per host and paces their starts', async () => {
    const limiter = new HostLimiter(2, 50);
    let active = 0;
    let peak = 0;
    const starts: number[] = [];
    const task = async (host: string) => {
      const release = await limiter.acquire(host);
      starts.push(Date.now());
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 120));
      active--;
      release();
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => task('a.example')));
    expect(peak).toBe(2);
    // Six starts at least 50 ms apart.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    // Another host is not held up by the first.
    const t1 = Date.now();
    await task('b.example');
    expect(Date.now() - t1).toBeLessThan(200);
  });

  it('does not let a newcomer start beside a waiter it has just woken (unpaced host)', async () => {
    const limiter = new HostLimiter(1, 0);
    let active = 0;
    let peak = 0;
    const task = async () => {
      const release = await limiter.acquire('h');
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      release();
    };
    const first = await limiter.acquire('h');
    const waiter = task();
    // Past the pace, the host's record is the kind that gets dropped once idle.
    await new Promise((r) => setTimeout(r, 5));
    first();
    // Arrives in the tick between the release and the woken waiter taking its slot.
    await Promise.all([waiter, task(), task()]);
    expect(peak).toBe(1);
  });

  it('lets a waiting request go when its caller aborts', async () => {
    const limiter = new HostLimiter(1, 0);
    const release = await limiter.acquire('h');
    const abort = new AbortController();
    const waiting = limiter.acquire('h', abort.signal);
    abort.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
    (await limiter.acquire('h'))();
  });
});
