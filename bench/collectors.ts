/**
 * `npm run bench:collectors`: throughput of the collectors against the local fixture servers
 * (127.0.0.1 only): static news pages (CheerioCrawler on the fetch layer, GBK decoding, extraction),
 * pages rendered in the system Chromium (PlaywrightCrawler), and RSS polling (GBK feeds). Prints
 * pages/s, feeds/s, and the peak resident memory of Node and of Chromium's processes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collection } from '../collectors/collection';
import { defaultConfig } from '../core/config';
import { silentLogger } from '../core/logger';
import { startFixtureServer } from '../test/fixtures/collectors/server';

const STATIC_LISTS = Number(process.env.BENCH_STATIC_LISTS ?? 15); // × 20 articles
const RENDERED_LISTS = Number(process.env.BENCH_RENDERED_LISTS ?? 3); // × 20 articles
const FEEDS = Number(process.env.BENCH_FEEDS ?? 300);

/** Resident memory (KB) of this process's descendants (Chromium and its helpers). */
function descendantsRssKb(): number {
  let out: string;
  try {
    out = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' });
  } catch {
    return 0;
  }
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number)) as Array<[number, number, number]>;
  const children = new Map<number, Array<[number, number]>>();
  for (const [pid, ppid, rss] of rows) children.set(ppid, [...(children.get(ppid) ?? []), [pid, rss]]);
  let total = 0;
  const walk = (pid: number) => {
    for (const [child, rss] of children.get(pid) ?? []) {
      if (child === pid) continue;
      total += rss;
      walk(child);
    }
  };
  walk(process.pid);
  return total;
}

async function timed(label: string, config: ReturnType<typeof defaultConfig>, unit: string, count: (docs: number, reports: number) => number) {
  let documents = 0;
  let peakChildren = 0;
  const sampler = setInterval(() => (peakChildren = Math.max(peakChildren, descendantsRssKb())), 250);
  const collection = new Collection({ config, log: silentLogger, sink: async (docs) => void (documents += docs.length), persistState: false });
  const started = process.hrtime.bigint();
  const reports = await collection.runOnce();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await collection.stop();
  clearInterval(sampler);
  const failures = reports.reduce((n, r) => n + r.pageFailures + (r.failed ? 1 : 0), 0);
  const n = count(documents, reports.length);
  console.log(
    `${label.padEnd(28)} ${String(n).padStart(5)} ${unit.padEnd(6)} in ${seconds.toFixed(2).padStart(6)} s = ${(n / seconds).toFixed(1).padStart(7)} ${unit}/s` +
      `  (${documents} documents, ${failures} failures${peakChildren > 65_536 ? `, Chromium peak RSS ${(peakChildren / 1024).toFixed(0)} MB` : ''})`,
  );
}

async function main(): Promise<void> {
  const server = await startFixtureServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-bench-'));
  const http = { per_host_min_interval_ms: 0, per_host_concurrency: 8, max_attempts: 1 };
  console.log(`collectors benchmark against ${server.base} (node ${process.version}, ${process.platform})`);

  // Warm-up: module loading and JIT, not counted.
  await new Collection({
    config: defaultConfig({ data_dir: dataDir, sources: [{ type: 'news', name: 'warm', list_urls: [server.url('/bench/list/999.html')] }], collectors: { http } }),
    log: silentLogger,
    sink: async () => undefined,
    persistState: false,
  }).runOnce();

  await timed(
    'static news pages (GBK)',
    defaultConfig({
      data_dir: dataDir,
      sources: [{ type: 'news', name: 'static', max_items_per_run: 10_000, list_urls: Array.from({ length: STATIC_LISTS }, (_, i) => server.url(`/bench/list/${i}.html`)) }],
      collectors: { http },
    }),
    'pages',
    (docs) => docs + STATIC_LISTS,
  );

  if (existsSync('/usr/bin/chromium')) {
    await timed(
      'rendered pages (Chromium)',
      defaultConfig({
        data_dir: dataDir,
        sources: [{ type: 'news', name: 'rendered', render: true, max_items_per_run: 10_000, list_urls: Array.from({ length: RENDERED_LISTS }, (_, i) => server.url(`/bench/rlist/${i}.html`)) }],
        collectors: { http, browser: { max_pages: 4 } },
      }),
      'pages',
      (docs) => docs + RENDERED_LISTS,
    );
  } else {
    console.log('rendered pages (Chromium)    skipped: /usr/bin/chromium is not installed');
  }

  await timed(
    'RSS polling (GBK feeds)',
    defaultConfig({
      data_dir: dataDir,
      sources: Array.from({ length: FEEDS }, (_, i) => ({ type: 'rss' as const, name: `feed-${i}`, url: server.url(`/bench/feed/${i}.xml`), full_article: 'never' as const })),
      collectors: { http, max_concurrent_sources: 8 },
    }),
    'feeds',
    (_docs, reports) => reports,
  );

  console.log(`peak RSS of the Node process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  await server.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
