import { formatIsoInZone, localTime } from '../../core/time';
import { KIND_TITLES, LEVEL_NAMES, PLATFORM_NAMES, STATUS_NAMES, type BriefingData, type Comparison } from './compose';
import { LEVELS } from './figures';

/**
 * The briefing as one self-contained HTML page (styles and the trend chart inline, nothing
 * fetched), also what Chromium prints to PDF. Titles, notes and sources are scraped or typed by
 * people: every value goes through the `html` template, which escapes whatever is not itself a
 * template result, so no value can close a tag or an attribute.
 */

/** Markup built by `html`, trusted as is when nested in another template. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Tagged template: literal parts are markup, interpolated values are text unless built by `html`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, part, i) => out + part + (i < values.length ? render(values[i]) : ''), ''));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-03-05 10:20` in the zone. */
export function localText(iso: string, timeZone: string): string {
  const t = localTime(Date.parse(iso), timeZone);
  return `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`;
}

export function changeLabel(c: Comparison): string {
  if (c.change === null) return '—';
  const sign = c.change > 0 ? '↑' : c.change < 0 ? '↓' : '';
  return `${sign}${(Math.abs(c.change) * 100).toFixed(1)}%`;
}

const STYLE = `
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif; color: #1f2329; margin: 0 auto; max-width: 960px; padding: 24px; line-height: 1.6; }
h1 { text-align: center; color: #b3261e; font-size: 28px; margin: 8px 0 4px; }
.meta { text-align: center; color: #646a73; font-size: 13px; margin-bottom: 16px; border-bottom: 2px solid #b3261e; padding-bottom: 12px; }
h2 { font-size: 18px; border-left: 4px solid #b3261e; padding-left: 8px; margin-top: 24px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #d0d3d6; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f3f5; }
td.num { text-align: right; white-space: nowrap; }
.level-1 { color: #b3261e; font-weight: bold; } .level-2 { color: #d46b08; font-weight: bold; } .level-3 { color: #1d6fd1; }
.summary { background: #fafafa; border: 1px solid #eee; padding: 12px; }
.note { color: #4e5969; font-size: 12px; }
svg text { font-size: 10px; fill: #646a73; }
tr { page-break-inside: avoid; }
`;

/** Bars of documents per bucket: an inline SVG built from numbers only. */
function trendChart(data: BriefingData): SafeHtml {
  const points = data.figures.documents.over_time;
  if (points.length === 0) return html``;
  const width = 900;
  const height = 180;
  const max = Math.max(1, ...points.map((p) => p.documents));
  const slot = width / points.length;
  const tz = data.period.time_zone;
  const label = (key: string) => {
    const t = localTime(Date.parse(key), tz);
    return data.interval === 'hour' ? `${pad(t.hour)}时` : `${t.month}/${t.day}`;
  };
  const every = Math.ceil(points.length / 12);
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height + 20}" width="100%" role="img" aria-label="信息量走势">
${points.map((p, i) => {
  const h = Math.round((p.documents / max) * height);
  return html`<rect x="${(i * slot + 1).toFixed(1)}" y="${height - h}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${h}" fill="#b3261e" opacity="0.75"><title>${label(p.key)} ${p.documents}</title></rect>${
    i % every === 0 ? html`<text x="${(i * slot + slot / 2).toFixed(1)}" y="${height + 14}" text-anchor="middle">${label(p.key)}</text>` : ''
  }`;
})}
</svg>`;
}

function bucketTable(title: string, rows: Array<{ key: string; count: number; name?: string }>, names: Record<string, string> = {}): SafeHtml {
  if (rows.length === 0) return html`<p class="note">${title}：无</p>`;
  return html`<table><thead><tr><th>${title}</th><th>信息量</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.name ?? names[r.key] ?? r.key}</td><td class="num">${r.count}</td></tr>`)}
</tbody></table>`;
}

export function renderBriefingHtml(data: BriefingData): string {
  const tz = data.period.time_zone;
  const s = data.figures.sentiment;
  const scored = s.negative + s.neutral + s.positive;
  const share = (n: number) => (scored === 0 ? '—' : `${((n / scored) * 100).toFixed(1)}%`);
  const title = `${KIND_TITLES[data.kind]}（${data.period.label}）`;
  const page = html`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<h1>${KIND_TITLES[data.kind]}</h1>
<div class="meta">统计时段：${data.period.label}（${localText(data.period.from, tz)} 至 ${localText(data.period.to, tz)}，${tz}）　生成时间：${localText(data.generated_at, tz)}</div>

<h2>一、总体情况</h2>
<p class="summary">${data.summary}</p>
<table><thead><tr><th>指标</th><th>本期</th><th>上期</th><th>环比</th></tr></thead><tbody>
<tr><td>监测信息量</td><td class="num">${data.totals.documents.current}</td><td class="num">${data.totals.documents.previous}</td><td class="num">${changeLabel(data.totals.documents)}</td></tr>
<tr><td>新增预警</td><td class="num">${data.totals.alerts.current}</td><td class="num">${data.totals.alerts.previous}</td><td class="num">${changeLabel(data.totals.alerts)}</td></tr>
${LEVELS.map((l) => html`<tr><td>其中${LEVEL_NAMES[l]}预警</td><td class="num">${data.totals.alerts_by_level[`${l}`]}</td><td></td><td></td></tr>`)}
<tr><td>转发总量</td><td class="num">${data.totals.reposts}</td><td></td><td></td></tr>
</tbody></table>

<h2>二、重点事件</h2>
${data.events.length === 0
  ? html`<p>本期无预警事件。</p>`
  : html`<table><thead><tr><th>级别</th><th>事件</th><th>专题</th><th>信息量</th><th>首发 / 最新</th><th>处置状态</th><th>处置情况</th></tr></thead><tbody>
${data.events.map((e) => html`<tr>
<td class="level-${e.level}">${LEVEL_NAMES[e.level]}</td>
<td>${e.link ? html`<a href="${e.link}">${e.title}</a>` : e.title}</td>
<td>${e.topic_name ?? e.topic}</td>
<td class="num">${e.doc_count}</td>
<td class="note">${localText(e.first_seen_at, tz)}<br>${localText(e.last_seen_at, tz)}</td>
<td>${STATUS_NAMES[e.status]}${e.assignee ? html`<br><span class="note">责任人：${e.assignee}</span>` : ''}</td>
<td>${e.summary ? html`办结：${e.summary}` : e.last_note ? html`${e.last_note.text}<br><span class="note">${e.last_note.by}，${localText(e.last_note.at, tz)}</span>` : html`<span class="note">暂无</span>`}</td>
</tr>`)}
</tbody></table>
${data.events_total > data.events.length ? html`<p class="note">共 ${data.events_total} 起，按级别列出前 ${data.events.length} 起。</p>` : ''}`}

<h2>三、情感倾向</h2>
<table><thead><tr><th>倾向</th><th>信息量</th><th>占比</th></tr></thead><tbody>
<tr><td>负面</td><td class="num">${s.negative}</td><td class="num">${share(s.negative)}</td></tr>
<tr><td>中性</td><td class="num">${s.neutral}</td><td class="num">${share(s.neutral)}</td></tr>
<tr><td>正面</td><td class="num">${s.positive}</td><td class="num">${share(s.positive)}</td></tr>
</tbody></table>

<h2>四、信息走势</h2>
${trendChart(data)}

<h2>五、主要来源与平台</h2>
${bucketTable('来源', data.figures.top_sources)}
<br>
${bucketTable('平台', data.figures.platforms, PLATFORM_NAMES)}
<br>
${bucketTable('专题', data.figures.top_topics)}

<p class="note">本简报由哨兵舆情监测系统自动生成，统计口径：信息按发布时间、预警按开启时间计入时段；时间均为 ${tz}（${formatIsoInZone(Date.parse(data.period.from), tz).slice(19)}）。</p>
</body>
</html>
`;
  return page.markup;
}
