import { AlignmentType, Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun, WidthType } from 'docx';
import { changeLabel, localText } from './html';
import { KIND_TITLES, LEVEL_NAMES, PLATFORM_NAMES, STATUS_NAMES, type BriefingData } from './compose';
import { LEVELS } from './figures';

/**
 * The briefing as a Word document, the format offices pass on and edit: title, the summary
 * paragraph, then one table per section. docx writes every string as XML text, escaped by the
 * library, so scraped titles stay text.
 */

const FONT = { ascii: 'Times New Roman', hAnsi: 'Times New Roman', eastAsia: '宋体' };
const HEADING_FONT = { ascii: 'Times New Roman', hAnsi: 'Times New Roman', eastAsia: '黑体' };

/** Characters XML 1.0 cannot hold at all (escaping does not help): a scraped title may carry them, and Word would refuse the file. */
const plain = (text: string) => text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');

function cell(text: string | number, options: { bold?: boolean; color?: string } = {}): TableCell {
  const lines = plain(String(text)).split('\n');
  return new TableCell({
    children: lines.map((line) => new Paragraph({ children: [new TextRun({ text: line, ...(options.bold ? { bold: true } : {}), ...(options.color ? { color: options.color } : {}) })] })),
  });
}

function table(header: string[], rows: Array<Array<string | number>>): Table {
  return new Table({
    width: { size: 100, type: WidthType.PERCENTAGE },
    rows: [
      new TableRow({ tableHeader: true, children: header.map((h) => cell(h, { bold: true })) }),
      ...rows.map((r) => new TableRow({ children: r.map((v) => cell(v)) })),
    ],
  });
}

const heading = (text: string) => new Paragraph({ text, heading: HeadingLevel.HEADING_1, spacing: { before: 240, after: 120 } });
const note = (text: string) => new Paragraph({ children: [new TextRun({ text, size: 18, color: '646A73' })] });

export async function renderBriefingDocx(data: BriefingData): Promise<Buffer> {
  const tz = data.period.time_zone;
  const s = data.figures.sentiment;
  const scored = s.negative + s.neutral + s.positive;
  const share = (n: number) => (scored === 0 ? '—' : `${((n / scored) * 100).toFixed(1)}%`);
  const title = KIND_TITLES[data.kind];
  const buckets = (rows: Array<{ key: string; count: number; name?: string }>, names: Record<string, string> = {}) =>
    rows.map((r) => [r.name ?? names[r.key] ?? r.key, r.count]);

  const doc = new Document({
    title: `${title}（${data.period.label}）`,
    creator: '哨兵舆情监测系统',
    styles: {
      default: {
        document: { run: { font: FONT, size: 22 } },
        heading1: { run: { font: HEADING_FONT, size: 28, bold: true } },
        title: { run: { font: HEADING_FONT, size: 40, bold: true, color: 'B3261E' } },
      },
    },
    sections: [
      {
        children: [
          new Paragraph({ text: title, heading: HeadingLevel.TITLE, alignment: AlignmentType.CENTER }),
          new Paragraph({
            alignment: AlignmentType.CENTER,
            children: [new TextRun({ text: `统计时段：${data.period.label}（${localText(data.period.from, tz)} 至 ${localText(data.period.to, tz)}，${tz}）　生成时间：${localText(data.generated_at, tz)}`, size: 18, color: '646A73' })],
          }),
          heading('一、总体情况'),
          new Paragraph({ text: plain(data.summary), spacing: { after: 120 } }),
          table(['指标', '本期', '上期', '环比'], [
            ['监测信息量', data.totals.documents.current, data.totals.documents.previous, changeLabel(data.totals.documents)],
            ['新增预警', data.totals.alerts.current, data.totals.alerts.previous, changeLabel(data.totals.alerts)],
            ...LEVELS.map((l) => [`其中${LEVEL_NAMES[l]}预警`, data.totals.alerts_by_level[`${l}`], '', '']),
            ['转发总量', data.totals.reposts, '', ''],
          ]),
          heading('二、重点事件'),
          ...(data.events.length === 0
            ? [new Paragraph('本期无预警事件。')]
            : [
                table(
                  ['级别', '事件', '专题', '信息量', '首发 / 最新', '处置状态', '处置情况'],
                  data.events.map((e) => [
                    LEVEL_NAMES[e.level],
                    e.title,
                    e.topic_name ?? e.topic,
                    e.doc_count,
                    `${localText(e.first_seen_at, tz)}\n${localText(e.last_seen_at, tz)}`,
                    `${STATUS_NAMES[e.status]}${e.assignee ? `\n责任人：${e.assignee}` : ''}`,
                    e.summary ? `办结：${e.summary}` : e.last_note ? `${e.last_note.text}\n${e.last_note.by}，${localText(e.last_note.at, tz)}` : '暂无',
                  ]),
                ),
                ...(data.events_total > data.events.length ? [note(`共 ${data.events_total} 起，按级别列出前 ${data.events.length} 起。`)] : []),
              ]),
          heading('三、情感倾向'),
          table(['倾向', '信息量', '占比'], [
            ['负面', s.negative, share(s.negative)],
            ['中性', s.neutral, share(s.neutral)],
            ['正面', s.positive, share(s.positive)],
          ]),
          heading('四、信息走势'),
          table(
            [data.interval === 'hour' ? '时段' : '日期', '信息量', '转发量'],
            data.figures.documents.over_time.filter((p) => p.documents > 0).map((p) => [localText(p.key, tz).slice(data.interval === 'hour' ? 11 : 0, data.interval === 'hour' ? 16 : 10), p.documents, p.reposts]),
          ),
          heading('五、主要来源与平台'),
          table(['来源', '信息量'], buckets(data.figures.top_sources)),
          new Paragraph(''),
          table(['平台', '信息量'], buckets(data.figures.platforms, PLATFORM_NAMES)),
          new Paragraph(''),
          table(['专题', '信息量'], buckets(data.figures.top_topics)),
          note(`本简报由哨兵舆情监测系统自动生成；信息按发布时间、预警按开启时间计入时段；时间均为 ${tz}。`),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}
