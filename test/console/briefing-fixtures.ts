import type { Alert, IndexedDocument } from '../../core/records';
import { alert, doc } from '../support/records';

/**
 * One day's story in Beijing time, 2026-03-05, and the day before, for the overview, the review and
 * the briefings: documents on either side of local midnight, alerts opened on each day, a hostile
 * scraped title, and a handled incident with its record.
 */

export const HOSTILE_TITLE = '化工厂爆炸<script>alert(1)</script>"><img src=x onerror=alert(2)>';

/** 23:30 UTC is 07:30 the next morning in Beijing. The blast's first post was fetched late, its second early. */
export const DOCS: IndexedDocument[] = [
  doc({ key: 'b-1', topics: ['blast'], cluster_id: 'c-blast', platform: 'weibo', source: '央视新闻', sentiment: -0.6, published_at: '2026-03-04T23:30:00Z', fetched_at: '2026-03-05T00:20:00Z', metrics: { reposts: 120 } }),
  doc({ key: 'b-2', topics: ['blast'], cluster_id: 'c-blast', platform: 'weibo', source: '央视新闻', sentiment: -0.3, published_at: '2026-03-05T00:10:00Z', fetched_at: '2026-03-05T00:12:00Z', metrics: { reposts: 30 } }),
  doc({ key: 'b-3', topics: ['blast'], cluster_id: 'c-blast', platform: 'news', source: '新华网', sentiment: 0, published_at: '2026-03-05T00:40:00Z', fetched_at: '2026-03-05T00:45:00Z' }),
  doc({ key: 'f-1', topics: ['fire'], cluster_id: 'c-fire', platform: 'news', source: '人民网', sentiment: 0.5, published_at: '2026-03-05T15:59:00Z' }),
  // Belong to other local days.
  doc({ key: 'next-day', topics: ['fire'], cluster_id: 'c-fire', platform: 'news', source: '人民网', sentiment: -0.9, published_at: '2026-03-05T23:30:00Z' }),
  doc({ key: 'prev-1', topics: ['fire'], cluster_id: 'c-old', platform: 'rss', source: '丁香园', sentiment: 0.1, published_at: '2026-03-04T10:00:00Z' }),
  doc({ key: 'prev-2', topics: ['fire'], cluster_id: 'c-old', platform: 'rss', source: '丁香园', published_at: '2026-03-04T11:00:00Z' }),
];

const at = (local: string) => new Date(`${local}+08:00`).toISOString();

/** Closed after being acknowledged, with a note, and notified in between. */
export const BLAST: Alert = alert({
  key: 'blast',
  topic: 'blast',
  topic_name: '危化品事故',
  cluster_id: 'c-blast',
  level: 1,
  status: 'closed',
  title: HOSTILE_TITLE,
  first_seen_at: '2026-03-04T23:30:00.000Z',
  last_seen_at: '2026-03-05T00:40:00.000Z',
  opened_at: '2026-03-05T00:10:00.000Z',
  updated_at: at('2026-03-05T12:00:00'),
  doc_count: 3,
  sources: ['央视新闻', '新华网'],
  platforms: ['weibo', 'news'],
  total_reposts: 150,
  assignee: 'ana',
  history: [
    { at: '2026-03-05T00:10:00.000Z', action: 'opened', by: 'system', note: '基础级别' },
    { at: at('2026-03-05T08:30:00'), action: 'acknowledged', by: 'zhang', via: 'link' },
    { at: at('2026-03-05T09:00:00'), action: 'noted', by: 'ana', note: '已联系应急局核实<b>情况</b>' },
    { at: at('2026-03-05T12:00:00'), action: 'closed', by: 'ana', note: '已发布权威通报，舆情平息' },
  ],
});

export const FIRE: Alert = alert({
  key: 'fire',
  topic: 'fire',
  topic_name: '森林火灾',
  cluster_id: 'c-fire',
  level: 3,
  status: 'open',
  title: '林区起火',
  first_seen_at: '2026-03-05T15:59:00.000Z',
  last_seen_at: '2026-03-05T23:30:00.000Z',
  opened_at: '2026-03-05T15:59:00.000Z',
  doc_count: 2,
});

/** Opened the day before, still active on the 5th: an event of both days, counted as opened on the 4th. */
export const OLD: Alert = alert({
  key: 'old',
  topic: 'fire',
  cluster_id: 'c-old',
  level: 2,
  status: 'acknowledged',
  title: '旧事件',
  first_seen_at: '2026-03-04T10:00:00.000Z',
  last_seen_at: '2026-03-05T01:00:00.000Z',
  opened_at: '2026-03-04T10:00:00.000Z',
  doc_count: 2,
});

export const ALERTS = [BLAST, FIRE, OLD];
