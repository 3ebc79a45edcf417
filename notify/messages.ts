import type { Level } from '../core/records';

/** What a channel carries: one text for people, plus the pieces SMS templates and robots need. */
export interface Message {
  kind: 'page' | 'resolved' | 'digest' | 'summary' | 'drill' | 'operator';
  level: Level;
  /** One line: the alert's title, the digest's count… */
  title: string;
  /** The whole message, plain text. */
  text: string;
  /** The signed acknowledgement link, when the message is a page. */
  link?: string;
  alert_id?: string;
}

export const LEVEL_NAMES: Record<Level, string> = { 1: '一级', 2: '二级', 3: '三级' };

/** 13800000000 → 138****0000; zhang.san@example.cn → z***@example.cn; anything else keeps its first and last 2 characters. */
export function maskRecipient(value: string): string {
  const mobile = /^(\+?\d*?)(\d{3})(\d{4})(\d{4})$/.exec(value);
  if (mobile) return `${mobile[1]}${mobile[2]}****${mobile[4]}`;
  const email = /^([^@])[^@]*(@.+)$/.exec(value);
  if (email) return `${email[1]}***${email[2]}`;
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}/…`;
  } catch {
    // not a URL
  }
  return value.length <= 4 ? '****' : `${value.slice(0, 2)}****${value.slice(-2)}`;
}

export function pageMessage(input: { level: Level; title: string; topic: string; alertId: string; link?: string; drill?: boolean; escalated?: boolean }): Message {
  const head = `${input.drill ? '【演练】' : ''}【${LEVEL_NAMES[input.level]}舆情${input.escalated ? '升级' : ''}】`;
  const lines = [`${head}${input.title}`, `专题: ${input.topic}`];
  if (input.link) lines.push(`确认收到: ${input.link}`);
  if (input.drill) lines.push('这是应急演练，请按正常流程确认。');
  return {
    kind: input.drill ? 'drill' : 'page',
    level: input.level,
    title: `${input.drill ? '【演练】' : ''}${input.title}`,
    text: lines.join('\n'),
    ...(input.link ? { link: input.link } : {}),
    alert_id: input.alertId,
  };
}

export function resolvedMessage(input: { level: Level; title: string; alertId: string; by?: string }): Message {
  return {
    kind: 'resolved',
    level: input.level,
    title: input.title,
    text: `【已处置】${input.title}${input.by ? `（${input.by}）` : ''}，无需再处理。`,
    alert_id: input.alertId,
  };
}

export function digestMessage(items: ReadonlyArray<{ title: string; topic: string }>): Message {
  const lines = items.slice(0, 20).map((i, n) => `${n + 1}. [${i.topic}] ${i.title}`);
  if (items.length > 20) lines.push(`…另有 ${items.length - 20} 条`);
  return { kind: 'digest', level: 3, title: `三级舆情汇总 ${items.length} 条`, text: [`【三级舆情汇总】${items.length} 条`, ...lines].join('\n') };
}

export function summaryMessage(held: ReadonlyArray<{ title: string; level: Level }>): Message {
  const lines = held.slice(0, 10).map((h) => `- ${LEVEL_NAMES[h.level]} ${h.title}`);
  if (held.length > 10) lines.push(`…另有 ${held.length - 10} 条`);
  return {
    kind: 'summary',
    level: Math.min(...held.map((h) => h.level)) as Level,
    title: `已暂缓 ${held.length} 条通知`,
    text: [`【通知汇总】本小时通知已达上限，暂缓 ${held.length} 条：`, ...lines].join('\n'),
  };
}

/** A recovery closes an earlier operator alert, and says so in its head. */
export function operatorMessage(text: string, recovered = false): Message {
  return { kind: 'operator', level: 2, title: text.slice(0, 60), text: `${recovered ? '【运维恢复】' : '【运维告警】'}${text}` };
}
