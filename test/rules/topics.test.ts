import { join } from 'node:path';
import { formatIssue } from '../../core/yaml-file';
import { loadTopicFiles, parseTopicFile } from '../../rules/topics';
import { tempFiles } from './fixtures';

function issues(text: string): string[] {
  const parsed = parseTopicFile(text, 't.yaml');
  return parsed.ok ? [] : parsed.issues.map(formatIssue);
}

describe('topic files', () => {
  it('accepts a topic and fills in the documented defaults', () => {
    const parsed = parseTopicFile('topics:\n  - id: blast\n    name: 爆炸\n    event: [爆炸, 闪爆]\n', 't.yaml');
    expect(parsed).toEqual({
      ok: true,
      topics: [{ id: 'blast', name: '爆炸', event: ['爆炸', '闪爆'], threshold: 0.3, alert_on: 'negative', level: 3, policy: 'default' }],
    });
  });

  it('loads the example topic files', () => {
    const loaded = loadTopicFiles([join(__dirname, '../../examples/topics')]);
    if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
    expect(loaded.topics.map((t) => t.id)).toEqual(expect.arrayContaining(['chemical-blast', 'wuhan-pneumonia', 'food-poisoning']));
  });

  it('reports broken YAML at its line and column', () => {
    expect(issues('topics:\n  - id: a\n    event: [爆炸\n')).toEqual([expect.stringMatching(/^t\.yaml:4:1: \(root\): /)]);
  });

  it('reports an unknown key at the key', () => {
    expect(issues('topics:\n  - id: a\n    name: A\n    evnet: [爆炸]\n')).toEqual([
      't.yaml:2:5: topics[0]: a topic needs at least one of region, subject, event or expr (exclude alone matches nothing)',
      't.yaml:4:5: topics[0].evnet: unknown key "evnet"',
    ]);
  });

  it('reports bad values at the value', () => {
    expect(issues('topics:\n  - id: a\n    name: A\n    event: [爆炸]\n    level: 4\n    threshold: 1.5\n    alert_on: positive\n')).toEqual([
      't.yaml:5:12: topics[0].level: level is 1 (一级, severe), 2 (二级) or 3 (三级, minor)',
      't.yaml:6:16: topics[0].threshold: Too big: expected number to be <=1',
      't.yaml:7:15: topics[0].alert_on: Invalid option: expected one of "negative"|"any"',
    ]);
  });

  it('reports a keyword that normalises to nothing at the keyword (its opening quote)', () => {
    expect(issues('topics:\n  - id: a\n    name: A\n    event: [爆炸, "\\u200b"]\n')).toEqual([
      't.yaml:4:17: topics[0].event[1]: keyword "\u200b" is empty once normalised',
    ]);
  });

  describe('expression errors point inside the expression', () => {
    it('in a plain scalar', () => {
      // "expr: " takes columns 5–10, so the expression starts at column 11.
      expect(issues('topics:\n  - id: a\n    name: A\n    expr: (武汉|湖北+爆炸\n')).toEqual([
        't.yaml:4:11: topics[0].expr: "(" is never closed (found the end of the expression)',
      ]);
      expect(issues('topics:\n  - id: a\n    name: A\n    expr: 武汉|湖北 爆炸\n')).toEqual([
        expect.stringMatching(/^t\.yaml:4:17: topics\[0\]\.expr: expected an operator/),
      ]);
    });

    it('in a double-quoted scalar, escapes included', () => {
      expect(issues('topics:\n  - id: a\n    name: A\n    expr: "\\"C++\\"+near(a, b, x)"\n')).toEqual([
        expect.stringMatching(/^t\.yaml:4:31: topics\[0\]\.expr: near\(\) distance must be a whole number/),
      ]);
    });

    it('in a single-quoted scalar', () => {
      expect(issues("topics:\n  - id: a\n    name: A\n    expr: 'it''s|-b'\n")).toEqual([
        expect.stringMatching(/^t\.yaml:4:18: topics\[0\]\.expr: "-" needs a keyword/),
      ]);
    });

    it('in a block scalar spanning lines', () => {
      const text = 'topics:\n  - id: a\n    name: A\n    expr: |\n      (武汉|湖北)\n      +(爆炸|起火\n';
      expect(issues(text)).toEqual([expect.stringMatching(/^t\.yaml:6:8: topics\[0\]\.expr: "\(" is never closed/)]);
    });

    it('for a keyword of the expression that normalises to nothing', () => {
      expect(issues('topics:\n  - id: a\n    name: A\n    expr: a+" "\n')).toEqual([
        expect.stringMatching(/^t\.yaml:4:13: topics\[0\]\.expr: empty quoted keyword/),
      ]);
      expect(issues('topics:\n  - id: a\n    name: A\n    expr: a+"\u200b"|b\n')).toEqual([
        't.yaml:4:13: topics[0].expr: keyword "\u200b" is empty once normalised',
      ]);
    });
  });

  it('requires ids unique across files and says where the first one is', () => {
    const dir = tempFiles({
      'a.yaml': 'topics:\n  - id: blast\n    name: A\n    event: [爆炸]\n',
      'b.yml': 'topics:\n  - id: other\n    name: B\n    event: [火灾]\n  - id: blast\n    name: C\n    event: [坍塌]\n',
      'notes.txt': 'not a topic file',
    });
    const loaded = loadTopicFiles([dir]);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issues.map(formatIssue)).toEqual([
      `${join(dir, 'b.yml')}:5:9: topics[1].id: duplicate topic id "blast" (first defined at ${join(dir, 'a.yaml')}:2:9)`,
    ]);
  });

  it('reports a missing file and an empty directory', () => {
    const dir = tempFiles({});
    const loaded = loadTopicFiles([join(dir, 'missing.yaml'), dir]);
    expect(loaded.ok ? [] : loaded.issues.map(formatIssue)).toEqual([
      expect.stringMatching(/missing\.yaml:1:1: \(root\): cannot read: ENOENT/),
      `${dir}:1:1: (root): directory holds no topic files (*.yaml, *.yml)`,
    ]);
  });

  it('gives the same digest for the same files and another after an edit', () => {
    const a = tempFiles({ 't.yaml': 'topics:\n  - id: a\n    name: A\n    event: [爆炸]\n' });
    const first = loadTopicFiles([a]);
    const again = loadTopicFiles([a]);
    const other = loadTopicFiles([tempFiles({ 't.yaml': 'topics:\n  - id: a\n    name: A\n    event: [火灾]\n' })]);
    if (!first.ok || !again.ok || !other.ok) throw new Error('expected valid files');
    expect(again.digest).toBe(first.digest);
    expect(other.digest).not.toBe(first.digest);
  });
});
