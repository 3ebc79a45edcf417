import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, EXIT_CONFIG } from '../../cli/main';
import { PROJECT_ROOT, runCli } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'shaobing-cli-'));

function leafCommands(): string[][] {
  const out: string[][] = [];
  const walk = (command: ReturnType<typeof buildProgram>, path: string[]) => {
    for (const sub of command.commands) {
      const here = [...path, sub.name()];
      out.push(here);
      walk(sub, here);
    }
  };
  walk(buildProgram(), []);
  return out;
}

describe('shaobing CLI', () => {
  it('--help lists every top-level subcommand', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['run', 'config', 'infra']));
    for (const name of names) expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it('every subcommand, at every depth, answers --help', async () => {
    // Two at a time: a child per command at once starves a 2-core CI machine past the timeout.
    const pending = leafCommands();
    const results: Array<{ path: string[] } & Awaited<ReturnType<typeof runCli>>> = [];
    const worker = async () => {
      for (let path = pending.shift(); path; path = pending.shift()) results.push({ path, ...(await runCli([...path, '--help'])) });
    };
    await Promise.all([worker(), worker()]);
    for (const r of results) {
      expect({ path: r.path, code: r.code }).toEqual({ path: r.path, code: 0 });
      expect(r.stdout).toContain(`Usage: shaobing ${r.path.join(' ')}`);
    }
  }, 300_000);

  it('a bad config stops `run` with file:line:col and the key path, exit 78', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'http:\n  port: 8080\nbus:\n  kafak:\n    brokers: [a:1]\n');
    const { code, stderr } = await runCli(['run', '--config', bad]);
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr.trim()).toBe(`${bad}:4:3: bus.kafak: unknown key "kafak"`);
  });

  it('`config` checks a file and names the backends in effect', async () => {
    const { code, stdout } = await runCli(['config', '--config', join(PROJECT_ROOT, 'shaobing.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/bus: +embedded/);
    expect(stdout).toMatch(/store: +embedded/);
  });

  it('an unknown option is a usage error, not a crash', async () => {
    const { code, stderr } = await runCli(['run', '--rol', 'pipeline']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown option '--rol'/);
  });
});

describe('shaobing run (embedded)', () => {
  it('serves health, readiness and metrics, and stops cleanly on SIGTERM', async () => {
    const config = join(dir, 'run.yaml');
    writeFileSync(config, `data_dir: ${join(dir, 'run-data')}\nhttp:\n  port: 0\n`);
    const script = `require(${JSON.stringify(join(PROJECT_ROOT, 'cli/main'))}).main(['node', 'shaobing', 'run', '--config', ${JSON.stringify(config)}]).then((c) => { process.exitCode = c; })`;
    const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    const started = Date.now();
    let url: string | undefined;
    while (!log.includes('shaobing daemon started') && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 100));
    for (const line of log.split('\n')) {
      if (line.includes('daemon listening')) url = (JSON.parse(line) as { url: string }).url;
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { bus: { ready: true }, store: { ready: true } } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^shaobing_process_cpu_seconds_total/m);

    const stopAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    // Logs are JSON lines, one object each.
    for (const line of log.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});
