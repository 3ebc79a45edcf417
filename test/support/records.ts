import type { Alert, IndexedDocument } from '../../core/records';
import { stableId } from '../../core/records';

/**
 * Builders for records in tests. Texts are real: a 央视新闻 Weibo post of 2020 and a 新闻联播 story
 * (MineSelf2016/SummerResearch and china-data/xwlb, MIT), cut to a sentence.
 */
export const REAL_TEXTS = [
  '【武汉火神山医院今天交付】武汉火神山医院今天交付，将于2月3日开始收治患者。',
  '国务院新闻办公室今天举行新闻发布会，介绍防汛抗旱工作情况。',
  '四川凉山州木里县发生森林火灾，当地组织力量全力扑救。',
];

export function doc(overrides: Partial<IndexedDocument> & { key: string }): IndexedDocument {
  const { key, ...rest } = overrides;
  return {
    id: stableId('doc', key),
    platform: 'news',
    source: '新华网',
    url: `https://news.example.cn/${encodeURIComponent(key)}.html`,
    title: `标题 ${key}`,
    text: REAL_TEXTS[0]!,
    published_at: '2026-03-05T10:20:00+08:00',
    fetched_at: '2026-03-05T10:25:00+08:00',
    ...rest,
  };
}

export function alert(overrides: Partial<Alert> & { key: string }): Alert {
  const { key, ...rest } = overrides;
  const at = '2026-03-05T10:20:00+08:00';
  return {
    id: stableId('alert', key),
    topic: 'fire',
    cluster_id: stableId('cluster', key),
    level: 3,
    status: 'open',
    title: `警情 ${key}`,
    first_seen_at: at,
    last_seen_at: at,
    opened_at: at,
    updated_at: at,
    doc_count: 1,
    sources: ['新华网'],
    platforms: ['news'],
    total_reposts: 0,
    history: [{ at, action: 'opened', by: 'system' }],
    ...rest,
  };
}
