import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
