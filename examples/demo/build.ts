/**
 * Builds examples/demo/documents.jsonl from the shared corpora (a development tool: the product
 * and its tests read only the committed output). Two MIT-licensed sources covering the same days,
 * 20–22 January 2020, when the Wuhan outbreak became national news:
 * - 丁香园's news feed (BlankerL/DXY-COVID-19-Data): official notices and outlets, minute-resolution;
 * - 央视新闻's own Weibo posts (MineSelf2016/SummerResearch), with their real repost and comment counts.
 * Usage: node -r @swc-node/register examples/demo/build.ts ../shared/data/corpus
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, stableId } from '../../core/records';

const FROM = '2020-01-20';
const TO = '2020-01-22';
const RELATED = /肺炎|疫情|病毒|确诊|疑似|武汉|人传人|防控/;

function lines(file: string): Array<Record<string, string>> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
}

function main(): void {
  const corpus = process.argv[2] ?? '../shared/data/corpus';
  const docs: Document[] = [];
  for (const r of lines(join(corpus, 'news_dxy_covid19.jsonl'))) {
    const day = r.pubDate!.slice(0, 10);
    if (day < FROM || day > TO || !r.summary) continue;
    const at = `${r.pubDate!.replace(' ', 'T')}+08:00`;
    docs.push(Document.parse({
      id: stableId('demo', r.sourceUrl || r.id!),
      platform: 'news',
      source: r.infoSource,
      url: r.sourceUrl || `https://ncov.dxy.cn/ncovh5/view/pneumonia_timeline?id=${r.id}`,
      title: r.title,
      text: r.summary,
      published_at: at,
      fetched_at: at,
    }));
  }
  for (const r of lines(join(corpus, 'weibo_cctvnews_2020.jsonl'))) {
    const day = (r.created_at ?? '').slice(0, 10);
    if (day < FROM || day > TO || !RELATED.test(r.WB_text!)) continue;
    const at = `${r.created_at!.replace(' ', 'T')}:00+08:00`;
    const count = (v: string | undefined) => Number.parseInt(v ?? '0', 10) || 0;
    docs.push(Document.parse({
      id: stableId('demo', r.mid ?? r.weibo_url!),
      platform: 'weibo',
      source: '央视新闻',
      url: r.weibo_url_canonical || r.weibo_url,
      title: '',
      text: r.WB_text!.replace(/[\u200b\s]+$/u, ''),
      published_at: at,
      fetched_at: at,
      metrics: { reposts: count(r.forward), comments: count(r.comment), likes: count(r.like) },
      author_verified: true,
      author_tier: 'central',
    }));
  }
  docs.sort((a, b) => a.published_at.localeCompare(b.published_at) || a.id.localeCompare(b.id));
  writeFileSync(join(__dirname, 'documents.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  process.stderr.write(`${docs.length} documents written\n`);
}

main();
