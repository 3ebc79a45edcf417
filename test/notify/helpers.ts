import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { RosterSchema, type Roster } from '../../notify/roster';

/** One request as a provider's endpoint saw it. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ProviderServer {
  url: string;
  received: Received[];
  /** Replaces the answer for later requests. */
  answer: (handler: (request: Received) => { status: number; body: unknown }) => void;
  close(): Promise<void>;
}

/** A local 127.0.0.1 HTTP server standing in for a provider's endpoint; the handler checks what real providers check. */
export async function providerServer(handler: (request: Received) => { status: number; body: unknown }): Promise<ProviderServer> {
  const received: Received[] = [];
  let current = handler;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      const { status, body } = current(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    answer: (h) => (current = h),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A roster of three on a daily rotation handing over at 09:00 Beijing time, from Monday 2026-03-02. */
export function testRoster(overrides: Partial<Record<string, unknown>> = {}): Roster {
  return RosterSchema.parse({
    people: [
      { id: 'zhang', name: '张三', mobile: '13800000001', email: 'zhang@example.cn', dingtalk: '13800000001', feishu: 'ou_zhang', wecom: 'zhangsan' },
      { id: 'li', name: '李四', mobile: '13800000002', email: 'li@example.cn' },
      { id: 'wang', name: '王五', mobile: '13800000003' },
      { id: 'zhao', name: '赵主任', mobile: '13800000009', email: 'zhao@example.cn' },
      { id: 'qian', name: '钱局长', mobile: '13800000010' },
      { id: 'ops', name: '运维', mobile: '13800000099', email: 'ops@example.cn' },
    ],
    leaders: ['zhao'],
    next_tier: ['qian'],
    rotations: [{ id: 'primary', shift: 'daily', handover: '09:00', start: '2026-03-02', members: ['zhang', 'li', 'wang'] }],
    ...overrides,
  });
}

/** Beijing wall-clock time as epoch ms. */
export function bj(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}:00+08:00`);
}

/** A WeCom group robot on 127.0.0.1 that accepts every message. */
export function robotServer(): Promise<ProviderServer> {
  return providerServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
}

/** Who a WeCom robot message @mentions, and its text. */
export function robotMessage(request: Received): { to: string | undefined; text: string } {
  const body = JSON.parse(request.body) as { text: { content: string; mentioned_list?: string[] } };
  return { to: body.text.mentioned_list?.[0], text: body.text.content };
}

/** A roster file as the notifier reads it: zhang on duty every day, zhao the leader, ops the operator; each reached through the WeCom robot. */
export const ROSTER_YAML = [
  'people:',
  '  - { id: zhang, name: 张三, mobile: "13800000001", wecom: zhang }',
  '  - { id: li, name: 李四, mobile: "13800000002", wecom: li }',
  '  - { id: zhao, name: 赵主任, mobile: "13800000009", wecom: zhao }',
  '  - { id: ops, name: 运维, mobile: "13800000099", wecom: ops }',
  'leaders: [zhao]',
  'rotations: [{ id: primary, shift: daily, start: 2026-01-01, members: [zhang] }]',
  '',
].join('\n');

/** 一级/二级: the person on duty at once, the leaders after `leaderAfterMinutes`; 三级 a digest. */
export function twoStepPolicy(channel: string, leaderAfterMinutes: number): unknown {
  const steps = [
    { notify: ['duty'], channels: [channel] },
    { after_minutes: leaderAfterMinutes, notify: ['leaders'], channels: [channel] },
  ];
  return { levels: { 1: { steps }, 2: { steps }, 3: { digest: {} } } };
}

/** One message as the SMTP server received it: envelope and the raw MIME text. */
export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface LoopbackSmtp {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 (no TLS, no auth required) that keeps what it receives. */
export async function loopbackSmtp(): Promise<LoopbackSmtp> {
  const mails: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    port: (smtp.server.address() as AddressInfo).port,
    mails,
    close: () => new Promise((resolve) => smtp.close(() => resolve())),
  };
}
