import { readFileSync } from 'node:fs';
import { stableId, type Document } from '../core/records';
import { benchData } from './paths';

/**
 * A replayable stream of real-text documents for the pipeline's benchmark and end-to-end tests
 * (test/pipeline/), built from bench/data (央视新闻 Weibo posts of 2020 and 新闻联播 stories; provenance and licences
 * in bench/data/README.md). Each real post is one story that other outlets copy with small
 * edits and Weibo users repost, so clusters form and grow; a few hot stories get many copies, so
 * alerts escalate. Everything is drawn from a seeded generator: the same options give the same
 * documents, ids and order, on every machine.
 *
 * Documents arrive in publication order (strictly increasing `published_at`), like a collector
 * feed that fetches as things appear; a document re-collected later comes again byte for byte.
 */

export interface CorpusOptions {
  /** How many documents to emit, re-collected ones included. */
  size: number;
  /** Default 1. Another seed gives other ids and another mix. */
  seed?: number;
  /** Include 新闻联播 stories (cut to `articleChars`) besides Weibo posts; default true. */
  articles?: boolean;
  /** Default 600 characters. */
  articleChars?: number;
  /** First publication time; default 2026-05-01T08:00:00+08:00. */
  start?: string;
  /** Mean gap between two documents in the stream; default 20 s. */
  meanGapSeconds?: number;
}

interface Base {
  id: string;
  title: string;
  text: string;
  source: string;
  metrics?: { reposts?: number; comments?: number };
}

function readJsonl(name: string): Base[] {
  return readFileSync(benchData(name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Base);
}

/** mulberry32: small, seeded, and the same everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OUTLETS = ['人民网', '新华网', '中国新闻网', '澎湃新闻', '新京报', '长江日报', '楚天都市报', '湖北日报', '南方都市报', '红星新闻', '界面新闻', '每日经济新闻', '北京青年报', '齐鲁晚报', '扬子晚报'];
const USERS = ['江城小李', '热心市民王先生', '汉口老张', '武昌的风', '追光的人', '一只小鹿', '晴天娃娃', '路人甲乙丙', '深夜食堂', '豆豆妈妈', '北漂十年', '江湖夜雨'];
const COMMENTS = ['转发微博', '加油！', '心疼，希望早日平安', '关注', '一起努力', '这才是正能量', '太难了，挺住', '谢谢你们的付出'];

/** Small edits an outlet makes when it carries a story; each keeps most of the character trigrams. */
const EDITS: Array<(text: string, r: () => number) => string> = [
  (t) => t.replace('今天', '今日').replace('记者', '本报记者'),
  (t) => `【转载】${t}`,
  (t) => `${t}（来源：央视新闻）`,
  (t) => t.replace(/​|\u200b/g, '').replace(/\s+$/u, '').replace(/。$/u, '！'),
  (t) => t.replace(/，/g, ', ').replace(/#/g, ''),
  (t, r) => {
    // Drop one clause of several, as an editor shortening a post.
    const clauses = t.split('，');
    if (clauses.length < 4) return `${t} 详情见原文。`;
    clauses.splice(1 + Math.floor(r() * (clauses.length - 2)), 1);
    return clauses.join('，');
  },
];

interface Pending {
  at: number;
  doc: Document;
}

/** `stories`, when given, is filled with each document's story: the id of the original it copies or reposts. */
export function buildCorpus(options: CorpusOptions, stories?: Map<string, string>): Document[] {
  const seed = options.seed ?? 1;
  const r = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const articleChars = options.articleChars ?? 600;
  const bases: Array<Base & { platform: Document['platform'] }> = [
    ...readJsonl('weibo-cctvnews-2020.jsonl').map((b) => ({ ...b, platform: 'weibo' as const })),
    ...(options.articles === false
      ? []
      : readJsonl('xwlb-articles.jsonl').map((b) => ({ ...b, text: b.text.slice(0, articleChars), source: '央视网', platform: 'news' as const }))),
  ];
  const start = Date.parse(options.start ?? '2026-05-01T08:00:00+08:00');
  const span = options.size * (options.meanGapSeconds ?? 20) * 1000;

  // Story sizes: Zipf-like weights, so a few stories are copied hundreds of times, most a handful.
  const order = bases.map((_, i) => i).sort(() => r() - 0.5);
  const weights = order.map((_, rank) => 1 / (rank + 1) ** 0.8);
  const total = weights.reduce((a, b) => a + b, 0);

  const pending: Pending[] = [];
  const reemit: Pending[] = [];
  let serial = 0;
  const id = (...parts: string[]) => stableId('corpus', String(seed), ...parts);

  order.forEach((baseIndex, rank) => {
    const base = bases[baseIndex]!;
    const count = Math.max(1, Math.round((weights[rank]! / total) * options.size * 1.03));
    const born = start + r() * span * 0.85;
    const original: Document = {
      id: id(base.id),
      platform: base.platform,
      source: base.source,
      url: base.platform === 'weibo' ? `https://weibo.com/2656274875/${base.id}` : `https://tv.cctv.com/${base.id}.shtml`,
      title: base.title,
      text: base.text,
      published_at: '',
      fetched_at: '',
      ...(base.metrics ? { metrics: { ...(base.metrics.reposts !== undefined ? { reposts: base.metrics.reposts } : {}), ...(base.metrics.comments !== undefined ? { comments: base.metrics.comments } : {}) } } : {}),
      ...(base.source === '央视新闻' || base.source === '央视网' ? { author_tier: 'central' as const } : {}),
    };
    pending.push({ at: born, doc: original });
    stories?.set(original.id, original.id);
    const members: Document[] = [original];
    let at = born;
    // A story spreads over a day and a half at most, so it stays one cluster (the window is 72 h).
    const meanGap = Math.min(40 * 60_000, (36 * 3_600_000) / count);
    for (let k = 1; k < count; k++) {
      at += -Math.log(1 - r()) * meanGap;
      const kind = r();
      let doc: Document;
      const n = serial++;
      if (kind < 0.35 && base.platform === 'weibo') {
        const parent = pick(members);
        const comment = pick(COMMENTS);
        doc = {
          id: id(base.id, 'repost', String(n)),
          platform: 'weibo',
          source: pick(USERS),
          url: `https://weibo.com/${1000 + Math.floor(r() * 9000)}/r${n}`,
          title: '',
          text: comment === '转发微博' ? comment : `${comment}//@${parent.source}: ${parent.text.slice(0, 12)}`,
          published_at: '',
          fetched_at: '',
          parent_id: parent.id,
          metrics: { reposts: Math.floor(r() * 30), comments: Math.floor(r() * 20) },
        };
      } else {
        const edit = pick(EDITS);
        const source = pick(OUTLETS);
        doc = {
          id: id(base.id, 'copy', String(n)),
          platform: r() < 0.5 ? 'news' : 'weibo',
          source,
          url: `https://news.example.cn/${encodeURIComponent(source)}/${n}.html`,
          title: base.title ? edit(base.title, r).slice(0, 200) : '',
          text: edit(base.text, r),
          published_at: '',
          fetched_at: '',
          metrics: { reposts: Math.floor(r() * 200), comments: Math.floor(r() * 100) },
        };
      }
      members.push(doc);
      stories?.set(doc.id, original.id);
      pending.push({ at, doc });
      if (r() < 0.01) reemit.push({ at: at + 30 * 60_000, doc });
    }
  });

  // Re-collected later, unchanged: the same id and the same bytes.
  const stream = [...pending, ...reemit].sort((a, b) => a.at - b.at || (a.doc.id < b.doc.id ? -1 : 1)).slice(0, options.size);
  // Strictly increasing times, whole milliseconds; each document keeps one time however often it comes.
  const times = new Map<string, string>();
  let last = 0;
  return stream.map(({ at, doc }) => {
    let published = times.get(doc.id);
    if (!published) {
      last = Math.max(Math.floor(at), last + 1);
      published = new Date(last).toISOString();
      times.set(doc.id, published);
    }
    return { ...doc, published_at: published, fetched_at: new Date(Date.parse(published) + 90_000).toISOString() };
  });
}

/**
 * Topics that match the corpus: the 2020 epidemic posts, supplies, the two sessions, and a safety
 * topic that matches little. `alert_on: any`, so every match takes part in an alert.
 */
export const CORPUS_TOPICS_YAML = `topics:
  - id: epidemic-wuhan
    name: 武汉新冠疫情
    region: [武汉, 湖北, 火神山, 雷神山, 江城]
    subject: [肺炎, 新冠, 疫情, 病毒, 医院, 医护, 医疗队]
    event: [确诊, 病例, 感染, 死亡, 隔离, 治愈, 出院, 驰援, 抗疫, 战疫, 防控, 援鄂]
    alert_on: any
    level: 3
    policy: health-duty
  - id: epidemic-cases
    name: 全国疫情病例通报
    subject: [新冠肺炎, 新型冠状病毒, 疫情, 肺炎]
    event: [新增确诊, 确诊病例, 疑似病例, 无症状感染者, 境外输入, 累计, 治愈, 病例]
    alert_on: any
    level: 3
    policy: health-duty
  - id: supplies
    name: 防疫物资
    subject: [口罩, 防护服, 呼吸机, 消毒液, 护目镜]
    event: [短缺, 捐赠, 驰援, 生产, 价格, 抢购]
    alert_on: any
    level: 3
    policy: default
  - id: sessions
    name: 全国两会
    subject: [两会, 人大, 政协, 政府工作报告]
    event: [召开, 开幕, 闭幕, 代表, 委员, 提案]
    alert_on: any
    level: 3
    policy: default
  - id: safety
    name: 安全事故
    subject: [工厂, 煤矿, 化工, 小区, 工地, 隧道]
    event: [火灾, 爆炸, 坍塌, 事故, 泄漏]
    alert_on: any
    level: 2
    policy: safety-duty
`;
