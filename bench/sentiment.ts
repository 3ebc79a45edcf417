/**
 * npm run bench:sentiment [-- --tokenizer nodejieba] [--data ../shared/data/sentiment]
 *
 * 1. Load time and memory of the tokenizer and of the sentiment model.
 * 2. Posts per second on one core, cutting and scoring, on real Weibo posts (~80 characters, from
 *    bench/data; see its README), and scoring alone on posts already cut. Each is run for at least
 *    MIN_MILLIS, ROUNDS times, keeping the fastest, since this machine is shared.
 * 3. Accuracy and macro-F1 on the labeled evaluation sets in ../shared/data/sentiment, when that
 *    folder is there (it is not part of the project; the product never reads it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSentimentAnalyzer } from '../rules/sentiment';
import { evaluateLabeledCsv } from '../rules/sentiment/evaluate';
import { createTokenizer, TOKENIZER_KINDS, type Token, type TokenizerKind } from '../rules/tokenizer';
import { benchData } from './paths';

const MIN_MILLIS = 1_500;
const ROUNDS = 3;
const EVAL_SETS = ['weibo2018_test', 'chnsenticorp_test', 'chnsenticorp_dev', 'weibo_senti_100k_dev', 'weibo_senti_100k_dev_noemoticon'];

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function timed<T>(run: () => T): { value: T; millis: number } {
  const started = process.hrtime.bigint();
  const value = run();
  return { value, millis: Number(process.hrtime.bigint() - started) / 1e6 };
}

/** Best rate over ROUNDS runs of `once` (which handles `items` posts), each run lasting at least MIN_MILLIS. */
function bestRate(items: number, once: () => void): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let done = 0;
    const { millis } = timed(() => {
      const started = Date.now();
      do {
        once();
        done += items;
      } while (Date.now() - started < MIN_MILLIS);
    });
    best = Math.max(best, (done / millis) * 1000);
  }
  return best;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tokenizer: { type: 'string', default: 'node-rs-jieba' },
      data: { type: 'string', default: resolve('../shared/data/sentiment') },
    },
  });
  const kind = values.tokenizer as TokenizerKind;
  if (!TOKENIZER_KINDS.includes(kind)) throw new Error(`--tokenizer must be one of ${TOKENIZER_KINDS.join(', ')}`);

  const rss0 = process.memoryUsage().rss;
  const tokenizer = timed(() => createTokenizer(kind));
  const rss1 = process.memoryUsage().rss;
  const analyzer = timed(() => createSentimentAnalyzer({ tokenizer: tokenizer.value }));
  const rss2 = process.memoryUsage().rss;
  console.log(`load    tokenizer (${kind}) ${tokenizer.millis.toFixed(0)} ms, +${mib(rss1 - rss0)} RSS`);
  console.log(`load    sentiment model ${analyzer.millis.toFixed(0)} ms, +${mib(rss2 - rss1)} RSS`);

  const posts = readFileSync(benchData('weibo-cctvnews-2020.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
  const chars = posts.reduce((sum, p) => sum + p.length, 0);
  const cut: Token[][] = posts.map((p) => tokenizer.value.cut(p));
  const cutAndScore = bestRate(posts.length, () => {
    for (const p of posts) analyzer.value.score(p, tokenizer.value.cut(p));
  });
  const scoreOnly = bestRate(posts.length, () => {
    posts.forEach((p, i) => analyzer.value.score(p, cut[i]));
  });
  console.log(`speed   ${posts.length} Weibo posts, ${(chars / posts.length).toFixed(0)} chars on average, one core:`);
  console.log(`        cut + score  ${cutAndScore.toFixed(0)} posts/s`);
  console.log(`        score only   ${scoreOnly.toFixed(0)} posts/s`);

  const dataDir = values.data as string;
  if (!existsSync(dataDir)) {
    console.log(`accuracy: skipped, ${dataDir} is not here (the labeled sets live outside the project)`);
    return;
  }
  console.log('accuracy (a neutral label counts by the sign of its score):');
  for (const name of EVAL_SETS) {
    const file = join(dataDir, `${name}.csv`);
    if (!existsSync(file)) {
      console.log(`        ${name}: not found, skipped`);
      continue;
    }
    const r = await evaluateLabeledCsv(file, analyzer.value, tokenizer.value);
    console.log(`        ${name.padEnd(32)} n=${String(r.n).padStart(5)}  accuracy ${r.accuracy.toFixed(4)}  macro-F1 ${r.macroF1.toFixed(4)}  ${r.docsPerSecond.toFixed(0)} posts/s`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
