import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPath } from '../../core/paths';

/**
 * jest runs the TypeScript through swc, which strips types without checking them, so a type error
 * (or a test helper leaking into the benchmarks' build) would otherwise pass every test and only
 * break `npm run build` or `npm run bench:…` on a user's machine.
 */
const run = promisify(execFile);
const tsc = projectPath('node_modules', 'typescript', 'bin', 'tsc');

describe('the project type-checks', () => {
  it.each(['tsconfig.json', 'tsconfig.web.json', 'tsconfig.bench.json'])('%s', async (config) => {
    const result = await run(process.execPath, [tsc, '-p', projectPath(config), '--noEmit'], { cwd: projectPath() }).catch(
      (err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? '', code: err.code }),
    );
    expect(result.stdout).toBe('');
  }, 180_000);
});
