import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerRulesCommands } from '../../rules/cli';
import { POSTS, tempFiles, wordSentiment } from './fixtures';

interface Run {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `shaobing rules …` through commander, as cli/main.ts does, with output captured. */
async function rules(...args: string[]): Promise<Run> {
  const run: Run = { code: undefined, stdout: '', stderr: '' };
  const program = new Command('shaobing').exitOverride();
  registerRulesCommands(program, {
    stdout: (text) => (run.stdout += text),
    stderr: (text) => (run.stderr += text),
    setExitCode: (code) => (run.code = code),
    sentiment: () => wordSentiment,
  });
  await program.parseAsync(['node', 'shaobing', 'rules', ...args]);
  return run;
}

const TOPICS = `topics:
  - id: blast
    name: 化工厂爆炸
    subject: [化工厂, 石化]
    event: [爆炸]
    level: 3
  - id: collapse
    name: 建筑坍塌
    subject: [工地, 建筑]
    event: [坍塌]
    alert_on: any
`;

describe('shaobing rules lint', () => {
  it('exits 0 and prints nothing on stdout for a valid file', async () => {
    const dir = tempFiles({ 'topics.yaml': TOPICS });
    const run = await rules('lint', join(dir, 'topics.yaml'));
    expect(run).toEqual({ code: 0, stdout: '', stderr: `${join(dir, 'topics.yaml')}: 2 topic(s), valid\n` });
  });

  it('exits 1 with one file:line:col line per issue', async () => {
    const dir = tempFiles({ 'topics.yaml': 'topics:\n  - id: a\n    name: A\n    event: [爆炸]\n    lvel: 2\n  - id: b\n    name: B\n    expr: 爆炸+\n' });
    const file = join(dir, 'topics.yaml');
    const run = await rules('lint', file);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      `${file}:5:5: topics[0].lvel: unknown key "lvel"`,
      `${file}:8:14: topics[1].expr: expected a keyword, "(" or near(…), found the end of the expression`,
    ]);
  });

  it('reports broken YAML and an unreadable file the same way', async () => {
    const dir = tempFiles({ 'topics.yaml': 'topics:\n  - id: "a\n' });
    const broken = await rules('lint', join(dir, 'topics.yaml'));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`^${join(dir, 'topics.yaml')}:\\d+:\\d+: \\(root\\): Missing closing "quote`));
    const missing = await rules('lint', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/nope\.yaml:1:1: \(root\): cannot read: ENOENT/);
  });
});

describe('shaobing rules test', () => {
  const docs = [
    JSON.stringify({ id: 'zhuhai', ...POSTS.zhuhaiBlast, source: '央视新闻', metrics: { reposts: 3000 } }),
    '{"id": "broken", "title": ',
    JSON.stringify({ id: 'wuhan', ...POSTS.wuhanCollapse, platform: 'weibo' }),
    '',
    JSON.stringify({ id: 'no-text', title: 'x' }),
    JSON.stringify({ id: 7, title: '', text: '今天天气很好' }),
  ].join('\n');

  it('prints one JSON line per valid document, reports bad lines by number and goes on', async () => {
    const dir = tempFiles({ 'topics.yaml': TOPICS, 'docs.jsonl': docs });
    const input = join(dir, 'docs.jsonl');
    const run = await rules('test', join(dir, 'topics.yaml'), '--input', input, '--json');
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^${input}:2: not valid JSON: `)),
      `${input}:5: text: Invalid input: expected string, received undefined`,
    ]);
    const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: unknown; matches: Array<Record<string, unknown>> });
    expect(lines.map((l) => l.id)).toEqual(['zhuhai', 'wuhan', 7]);
    const [zhuhai, wuhan, calm] = lines;
    expect(calm?.matches).toEqual([]);
    expect(zhuhai?.matches).toEqual([
      {
        topic: 'blast',
        score: expect.any(Number),
        sentiment: expect.any(Number),
        level: 1,
        hits: [
          { term: '石化', field: 'title', start: 3, end: 5 },
          { term: '爆炸', field: 'title', start: 6, end: 8 },
          { term: '化工厂', field: 'text', start: 11, end: 14 },
          { term: '爆炸', field: 'text', start: 16, end: 18 },
          { term: '爆炸', field: 'text', start: 34, end: 36 },
        ],
      },
    ]);
    expect(Object.keys(zhuhai?.matches[0] ?? {})).toEqual(['topic', 'score', 'sentiment', 'level', 'hits']);
    expect(wuhan?.matches.map((m) => m.topic)).toEqual(['collapse']);
  });

  it('prints a readable report with the reasons without --json', async () => {
    const dir = tempFiles({ 'topics.yaml': TOPICS, 'docs.jsonl': JSON.stringify({ id: 'wuhan', ...POSTS.wuhanCollapse }) });
    const run = await rules('test', join(dir, 'topics.yaml'), '--input', join(dir, 'docs.jsonl'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('wuhan: 1 topic(s) matched');
    expect(run.stdout).toMatch(/collapse 建筑坍塌 {2}relevance 0\.\d\d {2}sentiment -0\.\d\d \(negative\) {2}level 2 二级 {2}ALERT/);
    expect(run.stdout).toContain('level: 含严重性词语：死亡（人员伤亡）；坍塌（爆炸火灾）：升 1 级');
  });

  it('refuses a broken topic file and an unreadable input', async () => {
    const dir = tempFiles({ 'topics.yaml': 'topics: []\nextra: 1\n', 'ok.yaml': TOPICS });
    const broken = await rules('test', join(dir, 'topics.yaml'), '--input', join(dir, 'none.jsonl'));
    expect(broken).toMatchObject({ code: 1, stdout: '' });
    expect(broken.stderr).toContain('topics.yaml:2:1: extra: unknown key "extra"');
    const missing = await rules('test', join(dir, 'ok.yaml'), '--input', join(dir, 'none.jsonl'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/none\.jsonl: cannot read: ENOENT/);
  });

  it('needs --input', async () => {
    const dir = tempFiles({ 'topics.yaml': TOPICS });
    writeFileSync(join(dir, 'x'), '');
    await expect(rules('test', join(dir, 'topics.yaml'))).rejects.toThrow(/required option '--input <docs.jsonl>' not specified/);
  });
});
