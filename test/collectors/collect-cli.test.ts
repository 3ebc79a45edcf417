import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config';
import { Document } from '../../core/records';
import { startFixtureServer, type FixtureServer } from '../fixtures/collectors/server';
import { PROJECT_ROOT, runCli } from '../support/cli';

function collect(args: string[]) {
  return runCli(args, { timeoutMs: 60_000 });
}

let server: FixtureServer;
const dir = mkdtempSync(join(tmpdir(), 'shaobing-collect-cli-'));
let config: string;

beforeAll(async () => {
  server = await startFixtureServer();
  config = join(dir, 'shaobing.yaml');
  writeFileSync(
    config,
    `data_dir: ${join(dir, 'data')}
log:
  level: warn
collectors:
  http: { per_host_min_interval_ms: 0, max_attempts: 1 }
sources:
  - type: rss
    name: 武汉卫健委
    url: ${server.url('/rss/feed-gbk.xml')}
    full_article: never
  - type: news
    name: 已下线的站点
    list_urls: [${server.url('/gone/index.html')}]
  - type: news
    name: 搜狐公益
    list_urls: [${server.url('/news/list.html')}]
`,
  );
});
afterAll(() => server.close());

describe('shaobing collect', () => {
  it('prints one round of documents as JSON lines; failed pages go to stderr and exit is 0', async () => {
    const { code, stdout, stderr } = await collect(['collect', '--config', config, '--once', '--output', '-']);
    expect(code).toBe(0);
    const docs = stdout.trim().split('\n').map((line) => Document.parse(JSON.parse(line)));
    expect(docs).toHaveLength(6);
    expect(new Set(docs.map((d) => d.source))).toEqual(new Set(['武汉卫健委', '搜狐公益']));
    // The failures, with their URLs, on stderr only.
    expect(stderr).toContain(server.url('/gone/index.html'));
    expect(stderr).toContain(server.url('/20120701/n000000404.shtml'));
    expect(stderr).toMatch(/collect: 已下线的站点: 0 documents, 1 failed pages, .* FAILED: SB_COLLECT_HTTP_STATUS/);
    expect(stderr).toMatch(/collect: 武汉卫健委: 3 documents, 0 failed pages, .* ok/);
  }, 60_000);

  it('--source narrows to the named sources; an unknown name is an error', async () => {
    const one = await collect(['collect', '--config', config, '--once', '--source', '武汉卫健委']);
    expect(one.code).toBe(0);
    expect(one.stdout.trim().split('\n')).toHaveLength(3);

    const bad = await collect(['collect', '--config', config, '--once', '--source', '新华网']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/SB_COLLECT_UNKNOWN_SOURCE: no source named "新华网"/);
  }, 60_000);

  it('a mistake in sources stops it with file:line:col and the key path (exit 78)', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'sources:\n  - type: rss\n    name: x\n    url: http://127.0.0.1:1/feed.xml\n    ful_article: never\n');
    const { code, stderr } = await collect(['collect', '--config', bad, '--once']);
    expect(code).toBe(78);
    expect(stderr.trim()).toBe(`${bad}:5:5: sources[0].ful_article: unknown key "ful_article"`);
  });
});

describe('the bundled example configuration', () => {
  it('watches a few real Chinese news feeds', () => {
    const example = loadConfig(join(PROJECT_ROOT, 'shaobing.yaml'), {});
    expect(example.sources.length).toBeGreaterThanOrEqual(3);
    expect(example.sources.every((s) => s.type === 'rss')).toBe(true);
  });
});
