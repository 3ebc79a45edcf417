import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBriefingScheduler } from '../../console/briefings/scheduler';
import type { ConsoleServices } from '../../console/context';
import type { Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import { ChannelsSchema } from '../../notify/config';
import { RuleSet } from '../../rules/rule-set';
import type { Store } from '../../store/types';
import { loopbackSmtp, type LoopbackSmtp } from '../notify/helpers';
import { removeDataDir, storeFor, testConfig } from '../support/backends';
import { ALERTS, DOCS } from './briefing-fixtures';

const bj = (local: string) => new Date(`${local}+08:00`);

/** A port nothing listens on: the SMTP server is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the briefing scheduler', () => {
  const base = testConfig('embedded');
  const briefingsDir = mkdtempSync(join(tmpdir(), 'shaobing-briefings-'));
  let store: Store;
  let smtp: LoopbackSmtp;
  let clock = bj('2026-03-06T09:00:00');

  /** The console's services as a (re)started daemon builds them, with SMTP on `port`. */
  const services = (port: number): Pick<ConsoleServices, 'config' | 'paths' | 'store' | 'log' | 'rules' | 'now'> => {
    const config: Config = {
      ...base,
      console: {
        ...base.console,
        briefings: { ...base.console.briefings, daily: { enabled: true, at: '08:00' }, weekly: { enabled: false, weekday: 1, at: '08:30' }, recipients: ['leader@example.cn', 'office@example.cn'] },
      },
      notify: { ...base.notify, channels: ChannelsSchema.parse({ email: { host: '127.0.0.1', port, secure: false, from: 'shaobing@example.cn', timeout_ms: 5000 } }) },
    };
    return { config, paths: { stateDir: base.data_dir, usersFile: '', rulesHistoryDir: '', briefingsDir }, store, log: silentLogger, rules: new RuleSet({ paths: [] }), now: () => clock };
  };

  beforeAll(async () => {
    store = storeFor(base);
    await store.putDocuments(DOCS);
    for (const a of ALERTS) await store.createAlert(a);
    smtp = await loopbackSmtp();
  });

  afterAll(async () => {
    await smtp.close();
    await store.close();
    removeDataDir(base);
    rmSync(briefingsDir, { recursive: true, force: true });
  });

  it('makes the due briefing once, retries the mail after a restart, and catches up a missed day', async () => {
    // The SMTP server is down on the first run: the briefing is kept, the failed mail recorded.
    const first = createBriefingScheduler(services(await closedPort()));
    const [made] = await first.check();
    expect(made).toMatchObject({ id: 'daily-2026-03-05', scheduled: true, generated_by: 'scheduler', formats: ['html', 'pdf', 'docx'] });
    expect(made!.mail).toMatchObject({ attempts: 1, error: expect.stringContaining('ECONNREFUSED') });
    await first.stop();
    await first.stop();

    // Restarted with the server up: nothing is generated again, the mail goes out, once.
    const second = createBriefingScheduler(services(smtp.port));
    const [mailed] = await second.check();
    expect(mailed).toMatchObject({ id: 'daily-2026-03-05', mail: { attempts: 2, sent_at: clock.toISOString(), to: ['leader@example.cn', 'office@example.cn'] } });
    expect(await second.check()).toEqual([]);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['leader@example.cn', 'office@example.cn']);
    expect(mail.data).toMatch(/^Subject: =\?UTF-8\?/m);
    // Long headers are folded onto the next line.
    expect(mail.data).toMatch(/Content-Type:\s+application\/pdf/);
    expect(mail.data).toMatch(/Content-Type:\s+application\/vnd\.openxmlformats-officedocument\.wordprocessingml\.document/);
    expect(mail.data).toContain("filename*0*=utf-8''%E8%88%86%E6%83%85%E6%97%A5%E6%8A%A5");
    // The PDF part, base64: "%PDF-" is "JVBERi0".
    expect(mail.data).toMatch(/Content-Type: application\/pdf[\s\S]*?\r?\n\r?\nJVBERi0/);
    await second.stop();

    // Down over the 7th's 08:00 run, back on the 8th at 10:00: the 7th's briefing is made at start.
    clock = bj('2026-03-08T10:00:00');
    const third = createBriefingScheduler(services(smtp.port), { checkIntervalMs: 3_600_000 });
    await third.start();
    await third.stop();
    expect(readdirSync(briefingsDir).filter((f) => !f.startsWith('.')).sort()).toEqual(['daily-2026-03-05', 'daily-2026-03-07']);
    expect(smtp.mails).toHaveLength(2);
  });
});
