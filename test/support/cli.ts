import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { projectRoot } from '../../core/paths';

export const PROJECT_ROOT = projectRoot();

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI from source in a child process, as a user would run `shaobing …`
 * (the built bin/ does the same from dist/).
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const main = JSON.stringify(resolve(PROJECT_ROOT, 'cli/main'));
  const script = `require(${main}).main(['node', 'shaobing', ...process.argv.slice(1)]).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; })`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), '-e', script, '--', ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
