import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../../core/config';
import { NotifySchema } from '../../notify/config';
import { runCli } from '../support/cli';
import { eventually, removeDataDir, testConfig } from '../support/backends';
import { startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';
import { providerServer, ROSTER_YAML, type ProviderServer } from './helpers';

jest.setTimeout(400_000);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `shaobing drill` with the embedded store: through the daemon's notifier when one runs, in its
 * own process when none does, and a plain error when a daemon holds the data dir but cannot be asked.
 */
describe('drills without stopping the daemon', () => {
  let sms: ProviderServer;
  let config: Config;
  let port: number;
  const files: Record<'withSecret' | 'withoutSecret', string> = { withSecret: '', withoutSecret: '' };

  beforeAll(async () => {
    sms = await providerServer(() => ({ status: 200, body: { Code: 'OK', Message: 'OK' } }));
    port = await freePort();
    const base = testConfig('embedded');
    const roster = join(base.data_dir, 'roster.yaml');
    writeFileSync(roster, ROSTER_YAML);
    const notify = {
      roster,
      tick_seconds: 0.5,
      channels: { sms: [{ provider: 'aliyun', access_key_id: 'id', access_key_secret: 'secret', sign_name: '哨兵', template_code: 'SMS_1', endpoint: sms.url }] },
    };
    config = { ...base, http: { ...base.http, port: 0 }, log: { level: 'info' } };
    const write = (name: string, extra: Record<string, unknown>) => {
      const file = join(base.data_dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ ...config, notify: NotifySchema.parse({ ...notify, ...extra }) }));
      return file;
    };
    files.withSecret = write('with-secret', { public_url: `http://127.0.0.1:${port}`, ack: { secret: 'd'.repeat(32), port } });
    files.withoutSecret = write('without-secret', { ack: { port } });
  });
  afterAll(async () => {
    await sms.close();
    removeDataDir(config);
  });

  const daemon = async (file: string): Promise<PipelineProcess> => {
    const child = startPipelineProcess(file, { role: 'notifier' });
    await eventually(() => child.log(), (log) => /"msg":"shaobing daemon started"/.test(log) || /"level":"(error|fatal)"/.test(log), 120_000);
    expect(child.log()).toMatch(/"msg":"shaobing daemon started"/);
    return child;
  };
  const stop = async (child: PipelineProcess) => {
    child.kill('SIGTERM');
    await child.exited;
  };

  it('a daemon holding the data dir without notify.ack.secret: a plain error saying what to do', async () => {
    const child = await daemon(files.withoutSecret);
    try {
      const result = await runCli(['drill', '--level', '2', '--wait', '1', '--config', files.withoutSecret], { timeoutMs: 120_000 });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(new RegExp(`SB_STORE_UNAVAILABLE: .* is in use by process ${child.pid}.*no notifier answers at 127\\.0\\.0\\.1:${port} \\(notify\\.ack\\.secret is not set`));
      expect(sms.received).toHaveLength(0);
    } finally {
      await stop(child);
    }
  });

  it('with the daemon up, the drill runs through it; the duty person acknowledges by the link; the report has both times', async () => {
    const child = await daemon(files.withSecret);
    try {
      const drill = runCli(['drill', '--level', '2', '--wait', '90', '--json', '--config', files.withSecret], { timeoutMs: 180_000 });
      await eventually(() => sms.received.length, (n) => n >= 1, 60_000);
      const params = new URLSearchParams(sms.received[0]!.body);
      expect(params.get('PhoneNumbers')).toBe('13800000001');
      const { link, title } = JSON.parse(params.get('TemplateParam')!) as { link: string; title: string };
      expect(title).toContain('【演练】');
      expect(link.startsWith(`http://127.0.0.1:${port}/ack/`)).toBe(true);
      expect((await fetch(link, { method: 'POST' })).status).toBe(200);

      const result = await drill;
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as { via: string; level: number; people: Array<Record<string, unknown>> };
      expect(report).toMatchObject({ via: 'daemon', level: 2 });
      expect(report.people).toEqual([{ person: 'zhang', name: '张三', channel: 'sms', delivered_ms: expect.any(Number), acknowledged_ms: expect.any(Number), failed_attempts: 0 }]);
      expect(report.people[0]!.acknowledged_ms as number).toBeGreaterThanOrEqual(report.people[0]!.delivered_ms as number);
      // The daemon kept running through it all.
      expect(child.log()).not.toMatch(/"level":"(error|fatal)"/);
    } finally {
      await stop(child);
    }
  });

  it('with no daemon running, the drill opens the store itself', async () => {
    const before = sms.received.length;
    const result = await runCli(['drill', '--level', '2', '--wait', '1', '--json', '--config', files.withSecret], { timeoutMs: 180_000 });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { via: string; people: Array<Record<string, unknown>> };
    expect(report.via).toBe('process');
    expect(report.people).toEqual([{ person: 'zhang', name: '张三', channel: 'sms', delivered_ms: expect.any(Number), failed_attempts: 0 }]);
    expect(sms.received.length).toBe(before + 1);
  });
});
