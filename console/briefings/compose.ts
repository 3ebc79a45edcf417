import type { Alert, AlertHistoryEntry, AlertStatus, Level } from '../../core/records';
import { LEVEL_NAMES } from '../../notify/messages';
import type { Store } from '../../store/types';
import { LEVELS, periodFigures, type Interval, type LevelCounts, type PeriodFigures } from './figures';
import { previousPeriod, type Period } from './period';

export { LEVEL_NAMES };

/**
 * A briefing's content as plain data: what happened in the period, compared with the period
 * before (环比), and the events with their handling. Renderers (HTML, Word) only lay this out, so
 * the three formats cannot disagree.
 */

export const KIND_TITLES: Record<Period['kind'], string> = { daily: '舆情日报', weekly: '舆情周报', custom: '舆情简报' };
export const STATUS_NAMES: Record<AlertStatus, string> = { open: '待处置', acknowledged: '处置中', closed: '已办结' };
export const PLATFORM_NAMES: Record<string, string> = { news: '新闻网站', rss: 'RSS 订阅', weibo: '微博', wechat: '微信公众号' };

export interface BriefingEvent {
  id: string;
  title: string;
  level: Level;
  topic: string;
  topic_name?: string;
  doc_count: number;
  first_seen_at: string;
  last_seen_at: string;
  status: AlertStatus;
  assignee?: string;
  /** The latest note a person left (acknowledgement, note, level change, close). */
  last_note?: { at: string; by: string; action: AlertHistoryEntry['action']; text: string };
  /** The closing summary while closed. */
  summary?: string;
  /** The alert's page in the console, when console.public_url is set. */
  link?: string;
}

export interface Comparison {
  current: number;
  previous: number;
  /** (current − previous) / previous; null when the previous period had none. */
  change: number | null;
}

export interface BriefingData {
  kind: Period['kind'];
  title: string;
  period: Period;
  previous: Period;
  generated_at: string;
  /** The trend's buckets: hours for a span of up to two days, else days. */
  interval: Interval;
  totals: {
    documents: Comparison;
    alerts: Comparison;
    alerts_by_level: LevelCounts;
    reposts: number;
  };
  /** Events (alerts) active in the period: opened before it ended, still seen after it began. */
  events: BriefingEvent[];
  events_total: number;
  figures: PeriodFigures;
  /** One paragraph of plain Chinese that opens the briefing. */
  summary: string;
}

export interface ComposeOptions {
  store: Store;
  now: Date;
  /** A topic's display name, when the running rules know it. */
  topicName?: (id: string) => string | undefined;
  /** For links to the alerts' pages. */
  publicUrl?: string;
  /** Default 10 for a daily briefing, 20 otherwise. */
  maxEvents?: number;
}

function compare(current: number, previous: number): Comparison {
  return { current, previous, change: previous === 0 ? null : (current - previous) / previous };
}

function eventOf(alert: Alert, topicName: ComposeOptions['topicName'], publicUrl: string | undefined): BriefingEvent {
  const personal = alert.history.filter((h) => h.by !== 'system' && h.note?.trim());
  const last = personal[personal.length - 1];
  const closing = alert.status === 'closed' ? alert.history.filter((h) => h.action === 'closed').pop()?.note : undefined;
  const name = topicName?.(alert.topic) ?? alert.topic_name;
  return {
    id: alert.id,
    title: alert.title,
    level: alert.level,
    topic: alert.topic,
    ...(name ? { topic_name: name } : {}),
    doc_count: alert.doc_count,
    first_seen_at: alert.first_seen_at,
    last_seen_at: alert.last_seen_at,
    status: alert.status,
    ...(alert.assignee ? { assignee: alert.assignee } : {}),
    ...(last ? { last_note: { at: last.at, by: last.by, action: last.action, text: last.note! } } : {}),
    ...(closing ? { summary: closing } : {}),
    ...(publicUrl ? { link: `${publicUrl.replace(/\/$/, '')}/#/alerts/${encodeURIComponent(alert.id)}` } : {}),
  };
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const count = (n: number) => n.toLocaleString('zh-CN');

function changeText(c: Comparison, previousName: string): string {
  if (c.change === null) return c.current === 0 ? '' : `（${previousName}无数据）`;
  if (c.change === 0) return `，与${previousName}持平`;
  return `，较${previousName}${c.change > 0 ? '增加' : '减少'} ${percent(Math.abs(c.change))}`;
}

function summaryText(data: Omit<BriefingData, 'summary'>): string {
  const previousName = data.kind === 'daily' ? '前一日' : data.kind === 'weekly' ? '上周' : '上一时段';
  const { documents, alerts, alerts_by_level } = data.totals;
  const levels = LEVELS.filter((l) => alerts_by_level[`${l}`] > 0).map((l) => `${LEVEL_NAMES[l]} ${alerts_by_level[`${l}`]} 起`);
  const s = data.figures.sentiment;
  const scored = s.negative + s.neutral + s.positive;
  const sources = data.figures.top_sources.slice(0, 3).map((b) => b.key);
  const parts = [
    `${data.period.label}，共监测到相关信息 ${count(documents.current)} 条${changeText(documents, previousName)}`,
    `新增预警 ${alerts.current} 起${levels.length ? `（${levels.join('、')}）` : ''}${changeText(alerts, previousName)}`,
  ];
  if (scored > 0) parts.push(`负面信息 ${count(s.negative)} 条，占 ${percent(s.negative / scored)}`);
  if (sources.length) parts.push(`主要信息来源为${sources.join('、')}`);
  const open = data.events.filter((e) => e.status !== 'closed').length;
  if (data.events_total > 0) parts.push(`本期涉及事件 ${data.events_total} 起，列表中尚未办结 ${open} 起`);
  return `${parts.join('；')}。`;
}

export async function composeBriefing(period: Period, options: ComposeOptions): Promise<BriefingData> {
  const { store } = options;
  const previous = previousPeriod(period);
  const interval: Interval = Date.parse(period.to) - Date.parse(period.from) <= 2 * 86_400_000 ? 'hour' : 'day';
  const maxEvents = options.maxEvents ?? (period.kind === 'daily' ? 10 : 20);
  const range = (p: Period) => ({ from: p.from, to: p.to });
  const [figures, previousDocuments, previousAlerts, events] = await Promise.all([
    periodFigures(store, { ...range(period), interval, timeZone: period.time_zone, ...(options.topicName ? { topicName: options.topicName } : {}) }),
    store.searchDocuments({ time: range(previous), size: 0 }),
    store.searchAlerts({ opened: range(previous), size: 0 }),
    store.searchAlerts({ time: { from: period.from }, opened: { to: period.to }, order: 'severity', size: maxEvents }),
  ]);
  const data: Omit<BriefingData, 'summary'> = {
    kind: period.kind,
    title: KIND_TITLES[period.kind],
    period,
    previous,
    generated_at: options.now.toISOString(),
    interval,
    totals: {
      documents: compare(figures.documents.total, previousDocuments.total),
      alerts: compare(figures.alerts.total, previousAlerts.total),
      alerts_by_level: figures.alerts.by_level,
      reposts: figures.documents.reposts,
    },
    events: events.items.map((v) => eventOf(v.value, options.topicName, options.publicUrl)),
    events_total: events.total,
    figures,
  };
  return { ...data, summary: summaryText(data) };
}
