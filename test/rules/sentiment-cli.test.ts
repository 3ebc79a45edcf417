import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerEvalCommands } from '../../rules/sentiment/cli';

/** 200 real, hand-labeled Weibo posts, none in the training data; see test/fixtures/sentiment/README.md. */
const SAMPLE = join(__dirname, '../fixtures/sentiment/weibo2018_test_first200.csv');

const dir = mkdtempSync(join(tmpdir(), 'shaobing-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const program = new Command('shaobing').exitOverride().configureOutput({ writeErr: (s) => void (stderr += s) });
  registerEvalCommands(program);
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'shaobing', ...args]);
  } catch (caught) {
    if (!(caught instanceof CommanderError)) throw caught;
    exitCode = caught.exitCode;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr, exitCode };
}

test('--json prints accuracy, macro-F1, count and speed; the shipped model clears the floor', async () => {
  const { stdout, exitCode } = await run(['eval', 'sentiment', '--data', SAMPLE, '--json']);
  expect(exitCode).toBe(0);
  const result = JSON.parse(stdout) as Record<string, number>;
  expect(Object.keys(result).sort()).toEqual(['accuracy', 'docs_per_s', 'macro_f1', 'n']);
  expect(result.n).toBe(200);
  // 140 of the 200 are positive: always saying "positive" scores 0.70 accuracy and 0.41 macro-F1.
  expect(result.accuracy).toBeGreaterThanOrEqual(0.82);
  expect(result.macro_f1).toBeGreaterThanOrEqual(0.78);
  expect(result.docs_per_s).toBeGreaterThan(0);
});

test('prints a readable summary by default', async () => {
  const { stdout } = await run(['eval', 'sentiment', '--data', SAMPLE]);
  expect(stdout).toMatch(/^accuracy  0\.\d{4}\nmacro-F1  0\.\d{4}\nn         200\nposts\/s   \d+\n$/);
});

test('reports bad lines with their numbers and scores the rest', async () => {
  const file = join(dir, 'bad.csv');
  writeFileSync(file, 'label,text\n1,房间干净，服务热情，下次还来\npositive,好\n0,"服务太差了,再也不来了"\n没有标签\n');
  const { stdout, stderr, exitCode } = await run(['eval', 'sentiment', '--data', file, '--json']);
  expect(exitCode).toBe(0);
  expect(stderr).toContain(`${file}:3: label must be 1 (positive) or 0 (negative)`);
  expect(stderr).toContain(`${file}:5: expected "label,text"`);
  expect(stderr).toContain('2 line(s) skipped');
  expect(JSON.parse(stdout)).toMatchObject({ n: 2, accuracy: 1 });
});

test('a missing file or one without a single labeled row is an error', async () => {
  const missing = await run(['eval', 'sentiment', '--data', join(dir, 'nope.csv')]);
  expect(missing.exitCode).toBe(66);
  expect(missing.stderr).toContain('no such file');

  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, 'label,text\n');
  const none = await run(['eval', 'sentiment', '--data', empty]);
  expect(none.exitCode).toBe(66);
  expect(none.stderr).toContain('no labeled rows');
});
