import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SentimentAnalyzer, SentimentResult, Span } from '../../rules/sentiment';
import { type Topic, TopicSchema } from '../../rules/topics';

/**
 * Real posts for the rules tests, copied (not read at test time) from 央视新闻's Weibo of 2020,
 * dataset MineSelf2016/SummerResearch (MIT) via /work/shared/data/corpus/weibo_cctvnews_2020.jsonl;
 * the post id is the last part of its weibo.com URL. Titles are the posts' 【…】 headlines.
 */
export const POSTS = {
  /** https://weibo.com/2656274875/IprNUinzm */
  zhuhaiBlast: {
    title: '#珠海石化厂爆炸#',
    text: '今日，广东珠海高栏港一化工厂发生爆炸，从市民拍摄的现场视频可以看到，爆炸现场火光冲天。事发后，珠海当地投入救援，截止今日15时，现场明火仍未扑灭。愿平安！（总台央视记者魏星）',
  },
  /** https://weibo.com/2656274875/IofpJ1270 */
  wuhanCollapse: {
    title: '#武汉一建筑工地坍塌# 致6人死亡5人受伤',
    text: '昨天15时30分左右，湖北武汉巴登城生态休闲旅游开发项目一期工程发生一起较大建筑施工坍塌事故，造成11名作业人员被困。目前已完成对被困人员的搜救工作。事故造成6人死亡，5人受伤，受伤人员伤情均较为稳定。（央视记者倪晶依 吴绍钧）',
  },
  /** https://weibo.com/2656274875/InuDSlmHZ */
  chongqingFire: {
    title: '#重庆加州花园#发生火灾 大火几乎从楼底烧到楼顶',
    text: '今日17时许，重庆加州城市花园小区一楼房发生火灾，现场视频显示，起火建筑系一栋高层建筑，有十几层都可见明火。消防人员已经赶赴现场灭火。渝北区消防部门工作人员表示，目前火灾救援还在进行中。',
  },
  /** https://weibo.com/2656274875/IowwhjQhX */
  planeCrash: {
    title: '#乌克兰坠毁客机无人生还#',
    text: '今天，一架乌克兰客机在伊朗德黑兰霍梅尼国际机场附近坠毁，机上载有170名乘客，飞机型号为波音737。据伊朗国家电视台报道，所有乘客及机组人员遇难。',
  },
} as const;

/** A topic with the schema's defaults filled in. */
export function topic(fields: Partial<Topic> & { id: string }): Topic {
  return TopicSchema.parse({ name: fields.id, ...fields });
}

/** A temporary directory with the given files written into it. */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Calls a text negative when it holds some of a few words: enough to drive the stage in tests. */
function wordScore(text: string): SentimentResult {
  const negative = ['死亡', '爆炸', '遇难', '火灾'].filter((w) => text.includes(w)).length;
  const score = Math.max(-1, -0.4 * negative);
  return { score, label: score <= -0.3 ? 'negative' : 'neutral' };
}

const aroundSpans = (text: string, spans: readonly Span[]): SentimentResult =>
  wordScore(spans.map((s) => text.slice(Math.max(0, s.start - 20), s.end + 20)).join('\n'));

export const wordSentiment: SentimentAnalyzer = {
  score: wordScore,
  scoreAround: aroundSpans,
  read: (parts) => {
    const text = parts.map((p) => p.text).join('\n');
    return { score: () => wordScore(text), scoreAround: (spans) => aroundSpans(text, spans) };
  },
};
