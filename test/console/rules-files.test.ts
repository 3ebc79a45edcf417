import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import { isShaobingError } from '../../core/errors';
import { contentVersion, fileId, TopicFiles } from '../../console/rules/files';
import { EXTERNAL_AUTHOR, RulesHistory, versionDiff } from '../../console/rules/history';
import { tempFiles } from '../rules/fixtures';

const BLAST = `topics:
  - id: blast
    name: 化工厂爆炸
    subject: [化工厂]
    event: [爆炸]
`;
const COLLAPSE = `topics:
  - id: collapse
    name: 建筑坍塌
    subject: [工地]
    event: [坍塌]
`;

describe('TopicFiles', () => {
  let dir: string;
  let files: TopicFiles;
  beforeEach(() => {
    dir = tempFiles({ 'a-blast.yaml': BLAST, 'b-collapse.yml': COLLAPSE, 'notes.txt': 'not a topic file' });
    files = new TopicFiles([dir]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the topic files of the configured folder under opaque ids and resolves only those ids', () => {
    const { files: listed } = files.list();
    expect(listed.map((f) => f.path)).toEqual([join(dir, 'a-blast.yaml'), join(dir, 'b-collapse.yml')]);
    expect(listed[0]!.id).toMatch(/^[0-9a-f]{16}$/);
    expect(listed[0]!.id).toBe(fileId(join(dir, 'a-blast.yaml')));
    expect(files.resolve(listed[1]!.id).path).toBe(join(dir, 'b-collapse.yml'));
    for (const attempt of [join(dir, 'a-blast.yaml'), '../../etc/passwd', 'notes.txt', fileId(join(dir, 'notes.txt')), fileId('/etc/passwd')]) {
      expect(() => files.resolve(attempt)).toThrow(expect.objectContaining({ code: 'SB_CONSOLE_NOT_FOUND', status: 404 }));
    }
  });

  it('reads a file with its content digest as the version', () => {
    const blast = files.list().files[0]!;
    expect(files.read(blast)).toEqual({ text: BLAST, version: contentVersion(BLAST) });
  });

  it('checks an edit with line and column, and gives the topics of a valid one', () => {
    const blast = files.list().files[0]!;
    const broken = files.check(BLAST.replace('event: [爆炸]', 'event: [爆炸]\n    levle: 2'), blast);
    expect(broken.ok).toBe(false);
    expect(broken.topics).toEqual([]);
    expect(broken.issues).toEqual([expect.objectContaining({ file: blast.path, line: 6, col: 5, message: expect.stringContaining('levle') })]);

    const badExpr = files.check(BLAST.replace('event: [爆炸]', 'expr: 爆炸 | (起火'), blast);
    expect(badExpr.issues).toEqual([expect.objectContaining({ line: 5, col: expect.any(Number) })]);

    const ok = files.check(BLAST.replace('[爆炸]', '[爆炸, 起火]'), blast);
    expect(ok).toEqual({ ok: true, issues: [], topics: [expect.objectContaining({ id: 'blast', event: ['爆炸', '起火'] })] });
  });

  it('reports a topic id another file defines in the file being checked, whichever comes first', () => {
    const [blast, collapse] = files.list().files;
    // a-blast.yaml loads before b-collapse.yml, yet the clash is shown in the text being edited.
    const clash = files.check(`${BLAST}  - id: collapse\n    name: 重复\n    event: [坍塌]\n`, blast);
    expect(clash.ok).toBe(false);
    expect(clash.issues).toEqual([
      expect.objectContaining({ file: blast!.path, line: 6, col: 9, message: expect.stringMatching(/duplicate topic id "collapse" \(first defined at .*b-collapse\.yml:2:9\)/) }),
    ]);
    // The file's own topics are not a clash with its version on disk.
    expect(files.check(COLLAPSE, collapse).ok).toBe(true);
    // A text for no file is checked against all of them.
    expect(files.check(COLLAPSE).issues).toEqual([expect.objectContaining({ file: '(unsaved)', message: expect.stringContaining('duplicate topic id "collapse"') })]);
  });

  it('does not blame the edited file for another file that is broken', () => {
    const [blast] = files.list().files;
    writeFileSync(join(dir, 'b-collapse.yml'), 'topics: [');
    expect(files.check(BLAST, blast).ok).toBe(true);
    const { loaded } = files.load();
    expect(loaded.ok).toBe(false);
  });

  it('sees a file added to the folder', () => {
    writeFileSync(join(dir, 'c-new.yaml'), 'topics: []\n');
    expect(files.list().files.map((f) => f.path)).toContain(join(dir, 'c-new.yaml'));
  });
});

describe('RulesHistory', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempFiles({});
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers versions, keeps author, time, message and text, and stores a text once', () => {
    let t = Date.parse('2026-03-05T02:00:00Z');
    const history = new RulesHistory(dir, () => new Date((t += 60_000)));
    const v1 = history.record('f1', { path: '/r/a.yaml', author: 'li', message: '初版', text: BLAST });
    const v2 = history.record('f1', { path: '/r/a.yaml', author: 'wang', message: '加起火', text: COLLAPSE });
    const v3 = history.record('f1', { path: '/r/a.yaml', author: 'li', message: '回滚', text: BLAST });
    expect([v1.n, v2.n, v3.n]).toEqual([1, 2, 3]);
    expect(history.list('f1')).toEqual([
      { n: 1, author: 'li', at: '2026-03-05T02:01:00.000Z', message: '初版', digest: contentVersion(BLAST), path: '/r/a.yaml' },
      expect.objectContaining({ n: 2, author: 'wang', digest: contentVersion(COLLAPSE) }),
      expect.objectContaining({ n: 3, author: 'li', digest: contentVersion(BLAST) }),
    ]);
    expect(readdirSync(join(dir, 'f1', 'texts'))).toHaveLength(2);
    const got = history.get('f1', 2);
    expect(got?.text).toBe(COLLAPSE);
    expect(got?.previous?.text).toBe(BLAST);
    expect(history.get('f1', 1)?.previous).toBeUndefined();
    expect(history.get('f1', 9)).toBeUndefined();
    expect(history.list('other')).toEqual([]);
  });

  it('records a text found on disk as an external version, once', () => {
    const history = new RulesHistory(dir);
    const first = history.catchUp('f', '/r/a.yaml', BLAST);
    expect(first).toEqual(expect.objectContaining({ n: 1, author: EXTERNAL_AUTHOR }));
    expect(history.catchUp('f', '/r/a.yaml', BLAST)).toBeUndefined();
    history.record('f', { path: '/r/a.yaml', author: 'li', message: '', text: COLLAPSE });
    expect(history.catchUp('f', '/r/a.yaml', COLLAPSE)).toBeUndefined();
    expect(history.catchUp('f', '/r/a.yaml', BLAST)).toEqual(expect.objectContaining({ n: 3, author: EXTERNAL_AUTHOR }));
  });

  it('refuses a damaged record with its file name', () => {
    const history = new RulesHistory(dir);
    history.record('f', { path: 'p', author: 'a', message: '', text: 'x' });
    writeFileSync(join(dir, 'f', 'versions', '000002.json'), '{"n": 2}');
    let error: unknown;
    try {
      history.list('f');
    } catch (err) {
      error = err;
    }
    expect(isShaobingError(error, 'SB_RECORD_INVALID')).toBe(true);
    expect((error as Error).message).toContain('000002.json');
  });

  it('diffs two versions as a unified diff', () => {
    const diff = versionDiff('rules/a.yaml', { n: 1, text: BLAST }, { n: 2, text: BLAST.replace('[爆炸]', '[爆炸, 起火]') });
    expect(diff).toContain('--- rules/a.yaml\tv1');
    expect(diff).toContain('+++ rules/a.yaml\tv2');
    expect(diff).toContain('-    event: [爆炸]');
    expect(diff).toContain('+    event: [爆炸, 起火]');
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole with the mode asked for, leaving no temporary file', () => {
    const dir = tempFiles({ 'a.yaml': 'old' });
    try {
      writeFileAtomic(join(dir, 'a.yaml'), '新内容', { mode: 0o640 });
      expect(readFileSync(join(dir, 'a.yaml'), 'utf8')).toBe('新内容');
      expect(readdirSync(dir)).toEqual(['a.yaml']);
      expect(statSync(join(dir, 'a.yaml')).mode & 0o777).toBe(0o640);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
