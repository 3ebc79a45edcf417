// 概览: volume, sentiment split, alerts by level over time, top sources and topics.
import { html, useMemo, useState } from '../lib.js';
import { api, query } from '../api.js';
import { t } from '../i18n.js';
import { formatBucket } from '../format.js';
import { ErrorNotice, useLoad } from '../components.js';
import { Chart, COLORS } from '../charts.js';

const RANGES = /** @type {const} */ ({ '24h': [24, 'hour'], '7d': [168, 'day'], '30d': [720, 'day'] });

export function OverviewPage() {
  const [range, setRange] = useState(/** @type {keyof typeof RANGES} */ ('7d'));
  const [hours, interval] = RANGES[range];
  const load = useLoad(() => {
    const to = new Date();
    const from = new Date(to.getTime() - hours * 3600_000);
    return api('GET', `/api/overview${query({ from: from.toISOString(), to: to.toISOString(), interval })}`);
  }, [range]);
  const data = load.data;
  return html`<section class="overview" data-overview>
    <div class="range-switch">
      ${Object.keys(RANGES).map(
        (r) => html`<button class=${r === range ? 'current' : ''} onClick=${() => setRange(/** @type {keyof typeof RANGES} */ (r))}>${t(`range_${r}`)}</button>`,
      )}
    </div>
    <${ErrorNotice} error=${load.error} />
    ${data ? html`<${Charts} data=${data} interval=${interval} />` : null}
  </section>`;
}

const SENTIMENTS = /** @type {const} */ (['negative', 'neutral', 'positive']);
const SENTIMENT_COLORS = { negative: COLORS.neg, neutral: COLORS.neu, positive: COLORS.pos };
const LEVEL_COLORS = { 1: COLORS.level1, 2: COLORS.level2, 3: COLORS.level3 };

/** Ten at most, the largest on top. @param {{ key: string, count: number, name?: string }[]} items */
function bars(items) {
  const top = items.slice(0, 10).reverse();
  return {
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: top.map((b) => b.name ?? b.key), axisLabel: { width: 120, overflow: 'truncate' } },
    series: [{ type: 'bar', data: top.map((b) => b.count), itemStyle: { color: COLORS.documents } }],
  };
}

/** The figures of GET /api/overview as charts. @param {{ data: any, interval: 'hour' | 'day' }} props */
function Charts({ data, interval }) {
  const options = useMemo(() => {
    /** @type {{ key: string, documents: number, reposts: number }[]} */
    const volume = data.documents.over_time;
    /** @type {any[]} */
    const sentimentOverTime = data.sentiment.over_time;
    /** @type {{ key: string, by_level: Record<string, number> }[]} */
    const byLevel = data.alerts.over_time;
    const axis = (/** @type {{ key: string }[]} */ buckets) => ({ type: 'category', data: buckets.map((b) => formatBucket(b.key, interval)) });
    const grid = { left: 48, right: 48, top: 36, bottom: 28 };
    return {
      volume: {
        grid,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: axis(volume),
        yAxis: [{ type: 'value', minInterval: 1 }, { type: 'value', minInterval: 1, splitLine: { show: false } }],
        series: [
          { name: t('documents'), type: 'bar', data: volume.map((b) => b.documents), itemStyle: { color: COLORS.documents } },
          { name: t('reposts'), type: 'line', yAxisIndex: 1, data: volume.map((b) => b.reposts), itemStyle: { color: COLORS.reposts } },
        ],
      },
      split: {
        tooltip: { trigger: 'item' },
        legend: { top: 0 },
        series: [
          {
            type: 'pie',
            radius: ['35%', '65%'],
            top: 24,
            label: { formatter: '{b}\n{c} ({d}%)' },
            data: SENTIMENTS.map((k) => ({ name: t(`sentiment_${k}`), value: data.sentiment[k], itemStyle: { color: SENTIMENT_COLORS[k] } })),
          },
        ],
      },
      sentiment: {
        grid,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: axis(sentimentOverTime),
        yAxis: { type: 'value', minInterval: 1 },
        series: SENTIMENTS.map((k) => ({ name: t(`sentiment_${k}`), type: 'bar', stack: 'sentiment', data: sentimentOverTime.map((b) => b[k]), itemStyle: { color: SENTIMENT_COLORS[k] } })),
      },
      levels: {
        grid,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: axis(byLevel),
        yAxis: { type: 'value', minInterval: 1 },
        series: /** @type {const} */ ([1, 2, 3]).map((level) => ({
          name: t(`level_${level}`),
          type: 'bar',
          stack: 'levels',
          data: byLevel.map((b) => b.by_level[level]),
          itemStyle: { color: LEVEL_COLORS[level] },
        })),
      },
      sources: bars(data.top_sources),
      topics: bars(data.top_topics),
    };
  }, [data]);
  const scored = SENTIMENTS.some((k) => data.sentiment[k] > 0);
  return html`<div class="chart-grid">
    <p class="wide totals" data-totals>
      ${t('documents')} <strong>${data.documents.total}</strong> · ${t('reposts')} <strong>${data.documents.reposts}</strong> ·
      ${t('nav_alerts')} <strong>${data.alerts.total}</strong>
      (${[1, 2, 3].map((l) => `${t(`level_${l}`)} ${data.alerts.by_level[l]}`).join(' / ')})
    </p>
    <section class="panel wide"><h2>${t('volume')}</h2><${Chart} option=${options.volume} empty=${data.documents.total === 0} label=${t('volume')} /></section>
    <section class="panel"><h2>${t('sentimentSplit')}</h2><${Chart} option=${options.split} empty=${!scored} label=${t('sentimentSplit')} /></section>
    <section class="panel"><h2>${t('sentimentOverTime')}</h2><${Chart} option=${options.sentiment} empty=${!scored} label=${t('sentimentOverTime')} /></section>
    <section class="panel wide"><h2>${t('alertsByLevel')}</h2><${Chart} option=${options.levels} empty=${data.alerts.total === 0} label=${t('alertsByLevel')} /></section>
    <section class="panel"><h2>${t('topSources')}</h2><${Chart} option=${options.sources} empty=${data.top_sources.length === 0} label=${t('topSources')} /></section>
    <section class="panel"><h2>${t('topTopics')}</h2><${Chart} option=${options.topics} empty=${data.top_topics.length === 0} label=${t('topTopics')} /></section>
  </div>`;
}
