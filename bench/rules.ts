/**
 * npm run bench:rules
 *
 * Throughput of the whole rules stage (normalise, tokenize, match, score relevance, sentiment,
 * warning level) against tokenizer-only on the same documents, for 10 … 10,000 topics, on real
 * Weibo posts (~80 characters) and 新闻联播 stories (~1,900 characters) from bench/data (see its
 * README for provenance), then the peak RSS.
 *
 * Topics are synthetic but made of real vocabulary: jieba's dictionary, by part of speech (place
 * names for 地域词, nouns for 主体词, verbs for 事件词), sampled by frequency with the most
 * common words left out as an analyst would. Times are this process's CPU time, in interleaved
 * rounds whose medians are reported, since benchmark machines are often shared.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compileTopics, type Matcher } from '../rules/matcher';
import { createSentimentAnalyzer } from '../rules/sentiment';
import { createRuleStage, type StageDocument } from '../rules/stage';
import { createTokenizer, type Token } from '../rules/tokenizer';
import { type Topic, TopicSchema } from '../rules/topics';
import { benchData } from './paths';

const TOPIC_COUNTS = [10, 100, 1_000, 10_000];
/** Each measurement runs the documents over and over for at least this much CPU time… */
const MIN_MILLIS = 400;
/**
 * …and every measurement is repeated in this many rounds, taking turns (tokenizer-only, then the
 * stage with each topic count), so each ratio compares runs made moments apart; the medians are
 * reported. On a shared machine, load that comes and goes then moves both sides of a ratio alike.
 */
const ROUNDS = 5;
/** The most frequent words of each part of speech are too generic for a keyword (发展, 工作, 中国)… */
const SKIP_MOST_COMMON = 400;
/** …and the rarest are too obscure for anyone to monitor. */
const MIN_FREQUENCY = 20;

interface BenchDocument extends StageDocument {
  id: string;
}

export function readDocuments(name: string): BenchDocument[] {
  return readFileSync(benchData(name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as BenchDocument);
}

/** mulberry32: a small seeded generator, so every run benchmarks the same topics. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface WordClass {
  words: string[];
  /** Running sum of √frequency, for sampling by frequency without letting the commonest words dominate. */
  cumulative: number[];
}

/**
 * jieba's dictionary words (2–4 Chinese characters) by part of speech: place names, nouns, verbs.
 * Read line by line without splitting the whole file into arrays, which would cost more memory
 * than the 10,000 compiled topics being measured.
 */
function wordClasses(): { places: WordClass; nouns: WordClass; verbs: WordClass } {
  const dict = readFileSync(require.resolve('@node-rs/jieba/dict.txt'), 'utf8');
  const line = /^([\u4e00-\u9fff]{2,4}) (\d+) (ns|n|nt|nz|vn|v)$/gm;
  const found = { places: [] as Array<[string, number]>, nouns: [] as Array<[string, number]>, verbs: [] as Array<[string, number]> };
  for (let m = line.exec(dict); m; m = line.exec(dict)) {
    if (Number(m[2]) < MIN_FREQUENCY) continue;
    const word: [string, number] = [m[1] as string, Number(m[2])];
    const tag = m[3] as string;
    if (tag === 'ns') found.places.push(word);
    if (tag === 'n' || tag === 'nt' || tag === 'nz' || tag === 'vn') found.nouns.push(word);
    if (tag === 'v' || tag === 'vn') found.verbs.push(word);
  }
  const toClass = (words: Array<[string, number]>): WordClass => {
    const chosen = words
      .sort((a, b) => b[1] - a[1])
      .slice(SKIP_MOST_COMMON);
    let total = 0;
    return { words: chosen.map(([w]) => w), cumulative: chosen.map(([, freq]) => (total += Math.sqrt(freq))) };
  };
  return { places: toClass(found.places), nouns: toClass(found.nouns), verbs: toClass(found.verbs) };
}

export function syntheticTopics(count: number): Topic[] {
  const { places, nouns, verbs } = wordClasses();
  const rand = random(20_240_601);
  const pick = (cls: WordClass): string => {
    const target = rand() * (cls.cumulative.at(-1) as number);
    let lo = 0;
    let hi = cls.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cls.cumulative[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return cls.words[lo] as string;
  };
  const some = (cls: WordClass, min: number, max: number): string[] => [
    ...new Set(Array.from({ length: min + Math.floor(rand() * (max - min + 1)) }, () => pick(cls))),
  ];
  return Array.from({ length: count }, (_, i) => {
    const subject = some(nouns, 2, 5);
    const event = some(verbs, 2, 5);
    const shape = rand();
    const expr =
      shape < 0.1
        ? `near((${subject.join('|')}), (${event.join('|')}), ${10 + Math.floor(rand() * 40)})`
        : shape < 0.2
          ? `title:(${some(nouns, 1, 3).join('|')}) | ${pick(verbs)}+${pick(nouns)}`
          : undefined;
    return TopicSchema.parse({
      id: `topic-${i}`,
      name: `专题 ${i}`,
      ...(rand() < 0.5 ? { region: some(places, 1, 4) } : {}),
      subject,
      event,
      ...(rand() < 0.3 ? { exclude: some(nouns, 1, 2) } : {}),
      ...(expr ? { expr } : {}),
      level: 1 + Math.floor(rand() * 3),
    });
  });
}

/** This process's CPU time in ms: unlike wall time, it does not count time other processes took on a shared machine. */
function cpuMillis(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Documents per CPU second over at least MIN_MILLIS. */
function throughput(docs: BenchDocument[], run: (doc: BenchDocument, i: number) => void): number {
  let done = 0;
  const start = cpuMillis();
  let elapsed = 0;
  do {
    docs.forEach((doc, i) => run(doc, i));
    done += docs.length;
    elapsed = cpuMillis() - start;
  } while (elapsed < MIN_MILLIS);
  return (done / elapsed) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

function main(): void {
  const startRss = peakRssMb();
  // Topics first: generating them is the benchmark's own work, and its garbage is better gone
  // before the stage's memory is counted.
  const allTopics = syntheticTopics(Math.max(...TOPIC_COUNTS));
  const sets = [
    { name: 'weibo', docs: readDocuments('weibo-cctvnews-2020.jsonl') },
    { name: 'article', docs: readDocuments('xwlb-articles.jsonl') },
  ];
  const tokenizer = createTokenizer();
  const stage = createRuleStage({ sentiment: createSentimentAnalyzer({ tokenizer }) });
  const matchers = TOPIC_COUNTS.map((count) => {
    const started = performance.now();
    const matcher: Matcher = compileTopics(allTopics.slice(0, count));
    return { count, matcher, compileMillis: performance.now() - started };
  });
  const loadedRss = process.memoryUsage().rss / 1048576;
  const cut = (doc: BenchDocument): { title: Token[]; text: Token[] } => ({ title: tokenizer.cut(doc.title), text: tokenizer.cut(doc.text) });

  console.log(`rules stage vs tokenizer-only (${tokenizer.kind}), documents per CPU second, medians of ${ROUNDS} interleaved rounds of ≥ ${MIN_MILLIS} ms\n`);
  console.log(
    `${'docs'.padEnd(18)}${pad('topics', 7)}${pad('keywords', 10)}${pad('compile ms', 12)}${pad('tokenizer', 11)}${pad('stage', 9)}${pad('stage/tok', 11)}${pad('rules only', 12)}${pad('matches/doc', 13)}`,
  );
  const verdicts: string[] = [];
  for (const { name, docs } of sets) {
    const tokens = docs.map(cut);
    // Warm up jieba, the sentiment model, the normalisation tables and every matcher.
    for (const { matcher } of matchers) docs.forEach((doc, i) => stage.analyze(matcher, doc, { tokens: tokens[i] }));
    const tok: number[] = [];
    const whole = matchers.map(() => [] as number[]);
    const rulesOnly = matchers.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      tok.push(throughput(docs, (doc) => cut(doc)));
      matchers.forEach(({ matcher }, k) => {
        (whole[k] as number[]).push(throughput(docs, (doc) => stage.analyze(matcher, doc, { tokens: cut(doc) })));
        (rulesOnly[k] as number[]).push(throughput(docs, (doc, i) => stage.analyze(matcher, doc, { tokens: tokens[i] })));
      });
    }
    const avgChars = Math.round(docs.reduce((n, d) => n + d.title.length + d.text.length, 0) / docs.length);
    matchers.forEach(({ count, matcher, compileMillis }, k) => {
      const matches = docs.reduce((n, doc, i) => n + stage.analyze(matcher, doc, { tokens: tokens[i] }).topics.length, 0) / docs.length;
      const ratio = median((whole[k] as number[]).map((w, r) => w / (tok[r] as number)));
      console.log(
        `${`${name} (${avgChars} ch)`.padEnd(18)}${pad(count.toLocaleString('en'), 7)}${pad(matcher.keywordCount.toLocaleString('en'), 10)}${pad(compileMillis.toFixed(0), 12)}${pad(median(tok).toFixed(0), 11)}${pad(median(whole[k] as number[]).toFixed(0), 9)}${pad(`${(ratio * 100).toFixed(0)}%`, 11)}${pad(median(rulesOnly[k] as number[]).toFixed(0), 12)}${pad(matches.toFixed(2), 13)}`,
      );
      if (count === 1_000) verdicts.push(`  ${name.padEnd(8)} stage at 1,000 topics = ${(ratio * 100).toFixed(0)}% of tokenizer-only speed (target ≥ 60%): ${ratio >= 0.6 ? 'ok' : 'MISSED'}`);
    });
    const first = whole[0] as number[];
    const last = whole[whole.length - 1] as number[];
    const growth = median(first.map((w, r) => w / (last[r] as number)));
    const [small, large] = [TOPIC_COUNTS[0] as number, TOPIC_COUNTS[TOPIC_COUNTS.length - 1] as number];
    verdicts.push(`  ${name.padEnd(8)} cost per document with ${large.toLocaleString('en')} topics = ×${growth.toFixed(2)} that with ${small} (target < ×2): ${growth < 2 ? 'ok' : 'MISSED'}`);
  }
  const rss = peakRssMb();
  // A daemon holds one rule set: its memory is measured in a process of its own that loads only that.
  const alone = JSON.parse(execFileSync(process.execPath, [__filename, '--memory'], { encoding: 'utf8' })) as { peakRssMb: number; loadedRssMb: number };
  const largest = Math.max(...TOPIC_COUNTS).toLocaleString('en');
  console.log(`\ntargets\n${verdicts.join('\n')}`);
  console.log(`  peak RSS of a process with ${largest} topics = ${alone.peakRssMb.toFixed(0)} MB (target < 300 MB): ${alone.peakRssMb < 300 ? 'ok' : 'MISSED'}`);
  console.log(`    ${alone.loadedRssMb.toFixed(0)} MB once jieba, the sentiment model and the ${largest} topics were loaded, before any document`);
  console.log(`  this benchmark's own process, holding all ${TOPIC_COUNTS.length} topic sets: peak ${rss.toFixed(0)} MB (${startRss.toFixed(0)} MB at start, ${loadedRss.toFixed(0)} MB loaded)`);
}

/** Loads what a daemon with the largest topic set loads, runs both document sets through it, reports memory. */
function memoryMain(): void {
  const topics = syntheticTopics(Math.max(...TOPIC_COUNTS));
  const docs = [...readDocuments('weibo-cctvnews-2020.jsonl'), ...readDocuments('xwlb-articles.jsonl')];
  const tokenizer = createTokenizer();
  const stage = createRuleStage({ sentiment: createSentimentAnalyzer({ tokenizer }) });
  const matcher = compileTopics(topics);
  const loadedRssMb = process.memoryUsage().rss / 1048576;
  for (let pass = 0; pass < 3; pass++) {
    for (const doc of docs) stage.analyze(matcher, doc, { tokens: { title: tokenizer.cut(doc.title), text: tokenizer.cut(doc.text) } });
  }
  process.stdout.write(JSON.stringify({ peakRssMb: peakRssMb(), loadedRssMb }));
}

if (require.main === module) {
  if (process.argv.includes('--memory')) memoryMain();
  else main();
}
