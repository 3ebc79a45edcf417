import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssue, YamlValidationError } from '../../core/yaml-file';
import { RuleSet, type RuleSnapshot } from '../../rules/rule-set';
import { POSTS, tempFiles } from './fixtures';

const GOOD = 'topics:\n  - id: blast\n    name: 爆炸\n    event: [爆炸]\n';
const BETTER = 'topics:\n  - id: blast\n    name: 爆炸\n    event: [爆炸]\n  - id: collapse\n    name: 坍塌\n    event: [坍塌]\n';
const BROKEN = 'topics:\n  - id: blast\n    name: 爆炸\n    expr: 爆炸+(珠海\n';

describe('rule set', () => {
  it('keeps the last good set when a file breaks, and reports where', () => {
    const dir = tempFiles({ 'a.yaml': GOOD });
    const file = join(dir, 'a.yaml');
    const rules = RuleSet.load({ paths: [dir] });
    const first = rules.current as RuleSnapshot;
    expect(first.version).toBe(1);
    const rejected: string[][] = [];
    rules.on('rejected', (issues) => rejected.push(issues.map(formatIssue)));

    writeFileSync(file, BROKEN);
    const result = rules.reload();
    expect(result.ok).toBe(false);
    expect(rejected).toEqual([[`${file}:4:14: topics[0].expr: "(" is never closed (found the end of the expression)`]]);
    expect(rules.current).toBe(first);
    expect(rules.current?.matcher.match(POSTS.zhuhaiBlast).map((m) => m.topic.id)).toEqual(['blast']);

    writeFileSync(file, BETTER);
    const fixed = rules.reload();
    expect(fixed).toMatchObject({ ok: true, changed: true });
    expect(rules.current?.version).toBe(2);
    expect(rules.current?.matcher.match(POSTS.wuhanCollapse).map((m) => m.topic.id)).toEqual(['collapse']);
  });

  it('does not recompile unchanged files', () => {
    const rules = RuleSet.load({ paths: [join(tempFiles({ 'a.yaml': GOOD }), 'a.yaml')] });
    const before = rules.current;
    expect(rules.reload()).toMatchObject({ ok: true, changed: false });
    expect(rules.current).toBe(before);
  });

  it('refuses to start from a broken file, listing every issue', () => {
    const dir = tempFiles({ 'a.yaml': BROKEN });
    expect(() => RuleSet.load({ paths: [dir] })).toThrow(YamlValidationError);
    const rules = new RuleSet({ paths: [dir] });
    expect(rules.reload()).toMatchObject({ ok: false, rules: undefined });
    expect(rules.current).toBeUndefined();
  });

  it('survives a listener that throws', () => {
    const dir = tempFiles({ 'a.yaml': GOOD });
    const rules = new RuleSet({ paths: [dir] });
    const seen: number[] = [];
    rules.on('reloaded', () => {
      throw new Error('listener bug');
    });
    rules.on('reloaded', (snapshot) => seen.push(snapshot.version));
    expect(rules.reload().ok).toBe(true);
    expect(seen).toEqual([1]);
  });

  it('rejects unknown event names', () => {
    const rules = new RuleSet({ paths: [] });
    expect(() => rules.on('reload' as 'reloaded', () => undefined)).toThrow(/unknown rule set event "reload"/);
  });

  it('reloads by itself when watched files change, debounced', async () => {
    const dir = tempFiles({ 'a.yaml': GOOD });
    const rules = RuleSet.load({ paths: [join(dir, 'a.yaml')], debounceMillis: 50 });
    const events: string[] = [];
    const settled = new Promise<void>((resolve) => {
      rules.on('rejected', () => events.push('rejected'));
      rules.on('reloaded', (s) => {
        events.push(`reloaded ${s.version}`);
        resolve();
      });
    });
    rules.watch();
    try {
      writeFileSync(join(dir, 'other.yaml'), BROKEN); // not watched: only a.yaml was named
      writeFileSync(join(dir, 'a.yaml'), BROKEN);
      writeFileSync(join(dir, 'a.yaml'), BETTER); // within the debounce: one reload, of the final content
      await settled;
      expect(events).toEqual(['reloaded 2']);
      expect(rules.current?.topics.map((t) => t.id)).toEqual(['blast', 'collapse']);
    } finally {
      rules.close();
      rules.close();
    }
  });
});
