import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentVersion, fileId } from '../../console/rules/files';
import { stableId } from '../../core/records';
import { testTopics } from '../../rules/cli';
import { createSentimentAnalyzer } from '../../rules/sentiment';
import { createTokenizer } from '../../rules/tokenizer';
import { eventually } from '../support/backends';
import { doc } from '../support/records';
import { tempFiles } from '../rules/fixtures';
import { type ConsoleClient, startConsole, type TestConsole } from './helpers';

/**
 * The rules API through real HTTP with real sign-in: an analyst (ana), a duty officer (dan) and
 * an admin (adm) on a console whose rules are a folder of two topic files.
 */

const BLAST = `topics:
  - id: blast
    name: 化工厂爆炸
    subject: [化工厂, 石化]
    event: [爆炸]
    threshold: 0.2
    level: 3
`;
const COLLAPSE = `topics:
  - id: collapse
    name: 建筑坍塌
    subject: [工地, 建筑]
    event: [坍塌]
    alert_on: any
    threshold: 0.2
`;
const BLAST_OR_FIRE = BLAST.replace('event: [爆炸]', 'event: [爆炸, 起火]\n    exclude: [演练]');

/** 央视新闻, 2020 (test/rules/fixtures), with 廠 in Traditional to show offsets are into the text as written. */
const ARTICLE = {
  title: '#珠海石化厂爆炸#',
  text: '今日，广东珠海高栏港一化工廠发生爆炸，从市民拍摄的现场视频可以看到，爆炸现场火光冲天。事发后，珠海当地投入救援，截止今日15时，现场明火仍未扑灭。愿平安！（总台央视记者魏星）',
};

describe('rules API', () => {
  let dir: string;
  let c: TestConsole;
  let ana: ConsoleClient;
  let dan: ConsoleClient;
  let blastId: string;
  let collapseId: string;
  const blastPath = () => join(dir, 'a-blast.yaml');

  beforeAll(async () => {
    dir = tempFiles({ 'a-blast.yaml': BLAST, 'b-collapse.yaml': COLLAPSE });
    chmodSync(join(dir, 'a-blast.yaml'), 0o640);
    c = await startConsole({
      users: [
        { name: 'ana', role: 'analyst' },
        { name: 'dan', role: 'duty' },
        { name: 'adm', role: 'admin' },
      ],
      rules: [dir],
      config: { console: { backtest: { max_days: 30, max_documents: 1000 } } },
    });
    [ana, dan] = await Promise.all([c.login('ana'), c.login('dan')]);
    blastId = fileId(join(dir, 'a-blast.yaml'));
    collapseId = fileId(join(dir, 'b-collapse.yaml'));
  });

  afterAll(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('reading', () => {
    it('lists the files with their topics, versions and the running set', async () => {
      const res = await dan.get('/api/rules');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        rules: { version: expect.any(Number), loaded_at: expect.any(String), topics: 2 },
        in_sync: true,
        issues: [],
        files: [
          { id: blastId, path: blastPath(), version: contentVersion(BLAST), topics: [expect.objectContaining({ id: 'blast', name: '化工厂爆炸', level: 3 })] },
          { id: collapseId, path: join(dir, 'b-collapse.yaml'), version: contentVersion(COLLAPSE), topics: [expect.objectContaining({ id: 'collapse' })] },
        ],
      });
      expect((await c.anonymous().get('/api/rules')).status).toBe(401);
    });

    it('reads one file by its id', async () => {
      const res = await dan.get(`/api/rules/files/${blastId}`);
      expect(res.body).toEqual({ id: blastId, path: blastPath(), text: BLAST, version: contentVersion(BLAST) });
    });

    it('answers 404 for anything but a listed id: paths, traversal, ids of other files', async () => {
      const attempts = [
        encodeURIComponent('../../../etc/passwd'),
        encodeURIComponent(blastPath()),
        encodeURIComponent('a-blast.yaml'),
        '..%2Fa-blast.yaml',
        fileId('/etc/passwd'),
        '%2e%2e',
      ];
      for (const attempt of attempts) {
        for (const path of [`/api/rules/files/${attempt}`, `/api/rules/files/${attempt}/history`]) {
          const res = await ana.get(path);
          expect([path, res.status, res.body.code]).toEqual([path, 404, 'SB_CONSOLE_NOT_FOUND']);
        }
        const put = await ana.put(`/api/rules/files/${attempt}`, { text: BLAST, base_version: contentVersion(BLAST) });
        expect(put.status).toBe(404);
      }
    });
  });

  describe('validate as you type', () => {
    it('gives issues with line and column, and the topics of a valid text', async () => {
      const broken = await dan.post('/api/rules/validate', { file: blastId, text: BLAST.replace('level: 3', 'level: 5') });
      expect(broken.status).toBe(200);
      expect(broken.body).toEqual({
        ok: false,
        topics: [],
        issues: [{ file: blastId, path: blastPath(), line: 7, col: 12, key: 'topics.0.level', message: expect.stringContaining('level is 1') }],
      });
      const yaml = await dan.post('/api/rules/validate', { file: blastId, text: 'topics:\n  - id: [\n' });
      expect(yaml.body.issues[0]).toEqual(expect.objectContaining({ line: expect.any(Number), col: expect.any(Number) }));
      const ok = await dan.post('/api/rules/validate', { file: blastId, text: BLAST_OR_FIRE });
      expect(ok.body).toEqual({ ok: true, issues: [], topics: [expect.objectContaining({ id: 'blast', event: ['爆炸', '起火'], exclude: ['演练'] })] });
    });

    it('catches a topic id another file defines', async () => {
      const res = await dan.post('/api/rules/validate', { file: blastId, text: `${BLAST}  - id: collapse\n    name: 又一个\n    event: [坍塌]\n` });
      expect(res.body.ok).toBe(false);
      expect(res.body.issues).toEqual([
        expect.objectContaining({ file: blastId, line: 8, col: 9, message: `duplicate topic id "collapse" (first defined at ${join(dir, 'b-collapse.yaml')}:2:9)` }),
      ]);
    });

    it('refuses a body that is not a text, naming the field', async () => {
      const res = await dan.post('/api/rules/validate', { text: 42 });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(expect.objectContaining({ code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringMatching(/^body\.text/) }));
    });
  });

  describe('test on text', () => {
    it('shows hits at offsets into the original text, the score with its reasons, sentiment and level', async () => {
      const res = await dan.post('/api/rules/test', ARTICLE);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        expect.objectContaining({ rules: 'running', version: expect.any(Number), sentiment: { score: expect.any(Number), label: expect.any(String) } }),
      );
      expect(res.body.topics).toHaveLength(1);
      const blast = res.body.topics[0];
      expect(blast).toEqual(
        expect.objectContaining({
          topic: expect.objectContaining({ id: 'blast', file: blastId }),
          passed: true,
          threshold: 0.2,
          level: expect.any(Number),
          level_reasons: expect.arrayContaining(['专题基础等级：三级', expect.stringContaining('爆炸')]),
          sentiment: { score: expect.any(Number), label: expect.any(String) },
          alert: expect.any(Boolean),
        }),
      );
      expect(blast.score).toBeGreaterThanOrEqual(0.2);
      expect(blast.relevance.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^标题命中“石化”1 次/), expect.stringMatching(/^覆盖 2 组关键词/)]));
      const found = blast.hits.map((h: { field: 'title' | 'text'; start: number; end: number; keyword: string; group: string }) => [
        h.field,
        ARTICLE[h.field].slice(h.start, h.end),
        h.keyword,
        h.group,
      ]);
      expect(found).toEqual([
        ['title', '石化', '石化', 'subject'],
        ['title', '爆炸', '爆炸', 'event'],
        ['text', '化工廠', '化工厂', 'subject'],
        ['text', '爆炸', '爆炸', 'event'],
        ['text', '爆炸', '爆炸', 'event'],
      ]);
    });

    it('gives the same results as `shaobing rules test`', async () => {
      const input = join(dir, 'input.jsonl');
      const out: string[] = [];
      try {
        writeFileSync(input, `${JSON.stringify({ id: 'a', ...ARTICLE })}\n`);
        const code = await testTopics(
          blastPath(),
          input,
          {
            json: true,
            engine: () => {
              const tokenizer = createTokenizer();
              return { tokenizer, sentiment: createSentimentAnalyzer({ tokenizer }) };
            },
          },
          { stdout: (t) => out.push(t), stderr: () => undefined },
        );
        expect(code).toBe(0);
      } finally {
        rmSync(input, { force: true });
      }
      const cli = JSON.parse(out.join('')).matches;
      const api = (await dan.post('/api/rules/test', ARTICLE)).body.topics;
      const round = (x: number) => Math.round(x * 10_000) / 10_000;
      expect(
        api.map((r: any) => ({
          topic: r.topic.id,
          score: round(r.score),
          sentiment: round(r.sentiment.score),
          level: r.level,
          hits: r.hits.map((h: any) => ({ term: h.keyword, field: h.field, start: h.start, end: h.end })),
        })),
      ).toEqual(cli);
    });

    it('explains a named topic that did not match: which groups occur, which exclusion vetoed it', async () => {
      const res = await dan.post('/api/rules/test', { title: '工地安全演练', text: '某建筑工地今天开展安全演练。', topic: 'collapse' });
      expect(res.body.topics).toEqual([]);
      expect(res.body.missed).toEqual({
        topic: expect.objectContaining({ id: 'collapse', file: collapseId }),
        groups: [
          {
            group: 'subject',
            found: true,
            hits: [
              { field: 'title', start: 0, end: 2, keyword: '工地', group: 'subject' },
              { field: 'text', start: 1, end: 3, keyword: '建筑', group: 'subject' },
              { field: 'text', start: 3, end: 5, keyword: '工地', group: 'subject' },
            ],
          },
          { group: 'event', found: false, hits: [] },
        ],
        excluded: [],
      });
      const drill = { title: '应急演练', text: '市消防支队在一化工厂开展爆炸事故应急演练。', topic: 'blast', rules: BLAST_OR_FIRE, file: blastId };
      const vetoed = (await dan.post('/api/rules/test', drill)).body.missed;
      expect(vetoed.groups.map((g: { group: string; found: boolean }) => [g.group, g.found])).toEqual([['subject', true], ['event', true]]);
      expect(vetoed.excluded).toEqual([
        { field: 'title', start: 2, end: 4, keyword: '演练', group: 'exclude' },
        { field: 'text', start: 18, end: 20, keyword: '演练', group: 'exclude' },
      ]);
      const unknown = await dan.post('/api/rules/test', { ...ARTICLE, topic: 'nope' });
      expect(unknown.status).toBe(400);
    });

    it('reports a named topic under its threshold as not passed', async () => {
      const strict = BLAST.replace('threshold: 0.2', 'threshold: 0.99');
      const res = await dan.post('/api/rules/test', { ...ARTICLE, rules: strict, file: blastId, topic: 'blast' });
      expect(res.body).toEqual(expect.objectContaining({ rules: 'unsaved', file: blastId }));
      expect(res.body.topics).toEqual([expect.objectContaining({ topic: expect.objectContaining({ id: 'blast' }), passed: false, threshold: 0.99 })]);
    });

    it('tries an unsaved edit together with the other files, and refuses an invalid one with its issues', async () => {
      const text = '江苏一化工厂仓库起火，另有一处工地发生坍塌。';
      const running = await dan.post('/api/rules/test', { title: '', text });
      expect(running.body.topics.map((r: any) => r.topic.id)).toEqual(['collapse']);
      const edited = await dan.post('/api/rules/test', { title: '', text, rules: BLAST_OR_FIRE, file: blastId });
      expect(edited.body.topics.map((r: any) => r.topic.id).sort()).toEqual(['blast', 'collapse']);
      const invalid = await dan.post('/api/rules/test', { title: '', text, rules: 'topics: [', file: blastId });
      expect(invalid.status).toBe(422);
      expect(invalid.body).toEqual(expect.objectContaining({ code: 'SB_CONFIG_INVALID', details: { issues: [expect.objectContaining({ line: 1 })] } }));
    });
  });

  describe('backtest', () => {
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    beforeAll(async () => {
      await c.store.putDocuments([
        doc({ key: 'bt-blast', title: '化工厂爆炸', text: '江苏响水一化工厂发生爆炸事故。', published_at: hoursAgo(5) }),
        doc({ key: 'bt-fire', title: '化工厂起火', text: '一化工厂仓库起火，消防人员已赶赴现场。', published_at: hoursAgo(30) }),
        doc({ key: 'bt-drill', title: '应急演练', text: '市消防支队在一化工厂开展爆炸事故应急演练。', published_at: hoursAgo(50) }),
        doc({ key: 'bt-old-fire', title: '化工厂起火', text: '某化工厂车间起火。', published_at: hoursAgo(24 * 10) }),
      ]);
      await c.store.refresh();
    });

    it('runs as a job: what the edit would newly match and stop matching in the last N days', async () => {
      const started = await dan.post('/api/rules/backtest', { file: blastId, text: BLAST_OR_FIRE, days: 3 });
      expect(started.status).toBe(202);
      expect(started.body).toEqual(expect.objectContaining({ id: expect.any(String), status: 'running', file: blastId, user: 'dan' }));
      const job = await eventually(
        async () => (await dan.get(`/api/rules/backtest/${started.body.id}`)).body,
        (body) => body.status !== 'running',
      );
      expect(job).toEqual(expect.objectContaining({ status: 'done', scanned: 3, total: 3, added_count: 1, removed_count: 1, unchanged: 1 }));
      expect(job.added).toEqual([expect.objectContaining({ topic: 'blast', id: stableId('doc', 'bt-fire'), title: '化工厂起火', level: expect.any(Number) })]);
      expect(job.removed).toEqual([expect.objectContaining({ topic: 'blast', id: stableId('doc', 'bt-drill') })]);
      expect(job.topics).toEqual([{ topic: 'blast', name: '化工厂爆炸', added: 1, removed: 1, unchanged: 1 }]);
    });

    it('refuses more days than console.backtest.max_days, an invalid text, an unknown job', async () => {
      const tooLong = await ana.post('/api/rules/backtest', { file: blastId, text: BLAST_OR_FIRE, days: 31 });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.message).toMatch(/^body\.days/);
      const invalid = await ana.post('/api/rules/backtest', { file: blastId, text: 'topics: [', days: 3 });
      expect(invalid.status).toBe(422);
      expect((await ana.get('/api/rules/backtest/no-such-job')).status).toBe(404);
    });
  });

  describe('saving, history and rollback', () => {
    it('saves atomically over the version read, records it, reloads the running rules and audits it', async () => {
      const before = (await ana.get(`/api/rules/files/${blastId}`)).body;
      const runningBefore = c.services.rules.current!.version;
      const res = await ana.put(`/api/rules/files/${blastId}`, { text: BLAST_OR_FIRE, base_version: before.version, message: '加入起火，排除演练' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        version: contentVersion(BLAST_OR_FIRE),
        history: { n: 2, author: 'ana', at: expect.any(String), message: '加入起火，排除演练', version: contentVersion(BLAST_OR_FIRE), path: blastPath() },
        unchanged: false,
        in_force: { applied: true, rules_version: runningBefore + 1, loaded_at: expect.any(String), issues: [] },
      });
      expect(readFileSync(blastPath(), 'utf8')).toBe(BLAST_OR_FIRE);
      expect(statSync(blastPath()).mode & 0o777).toBe(0o640);
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(c.services.rules.current!.topics.find((t) => t.id === 'blast')!.event).toEqual(['爆炸', '起火']);

      const audit = await c.store.searchAudit({ action: ['rules.save'] });
      expect(audit.items).toEqual([
        expect.objectContaining({
          user: 'ana',
          target: `topics:${blastPath()}`,
          before: { version: contentVersion(BLAST), history: 1 },
          after: expect.objectContaining({ version: contentVersion(BLAST_OR_FIRE), history: 2, diff: expect.stringContaining('+    exclude: [演练]') }),
          note: '加入起火，排除演练',
        }),
      ]);
    });

    it('lists the history, the first version recorded as found on disk, and shows a version with its diff', async () => {
      const history = await dan.get(`/api/rules/files/${blastId}/history`);
      expect(history.body).toEqual({
        file: blastId,
        path: blastPath(),
        version: contentVersion(BLAST_OR_FIRE),
        versions: [expect.objectContaining({ n: 2, author: 'ana' }), expect.objectContaining({ n: 1, author: '(external)', version: contentVersion(BLAST) })],
      });
      const v2 = await dan.get(`/api/rules/files/${blastId}/history/2`);
      expect(v2.body).toEqual(expect.objectContaining({ n: 2, text: BLAST_OR_FIRE, previous: 1 }));
      expect(v2.body.diff).toContain('-    event: [爆炸]');
      expect(v2.body.diff).toContain('+    event: [爆炸, 起火]');
      const v1 = await dan.get(`/api/rules/files/${blastId}/history/1`);
      expect(v1.body).toEqual(expect.objectContaining({ n: 1, text: BLAST, previous: null }));
      expect((await dan.get(`/api/rules/files/${blastId}/history/9`)).status).toBe(404);
    });

    it('refuses a save over a version no longer on disk with 409 and the current version', async () => {
      const external = BLAST_OR_FIRE.replace('level: 3', 'level: 2');
      writeFileSync(blastPath(), external);
      const res = await ana.put(`/api/rules/files/${blastId}`, { text: BLAST, base_version: contentVersion(BLAST_OR_FIRE), message: '' });
      expect(res.status).toBe(409);
      expect(res.body).toEqual(expect.objectContaining({ code: 'SB_RULES_CONFLICT', details: { current_version: contentVersion(external) } }));
      expect(readFileSync(blastPath(), 'utf8')).toBe(external);
      // The change made outside the console is in the history now.
      const versions = (await ana.get(`/api/rules/files/${blastId}/history`)).body.versions;
      expect(versions[0]).toEqual(expect.objectContaining({ n: 3, author: '(external)', version: contentVersion(external) }));
    });

    it('refuses an invalid text with 422 and its issues, writing and recording nothing', async () => {
      const current = (await ana.get(`/api/rules/files/${blastId}`)).body;
      const res = await ana.put(`/api/rules/files/${blastId}`, { text: current.text.replace('level: 2', 'level: 7'), base_version: current.version, message: 'x' });
      expect(res.status).toBe(422);
      expect(res.body).toEqual(
        expect.objectContaining({ code: 'SB_CONFIG_INVALID', details: { issues: [expect.objectContaining({ file: blastId, line: 8, key: 'topics.0.level' })] } }),
      );
      expect(readFileSync(blastPath(), 'utf8')).toBe(current.text);
      expect((await ana.get(`/api/rules/files/${blastId}/history`)).body.versions).toHaveLength(3);
    });

    it('rolls back to a version as a new version, with the same checks, and audits it', async () => {
      const current = (await ana.get(`/api/rules/files/${blastId}`)).body;
      const stale = await ana.post(`/api/rules/files/${blastId}/history/1/rollback`, { base_version: contentVersion(BLAST) });
      expect(stale.status).toBe(409);
      const res = await ana.post(`/api/rules/files/${blastId}/history/1/rollback`, { base_version: current.version });
      expect(res.status).toBe(200);
      expect(res.body.history).toEqual(expect.objectContaining({ n: 4, author: 'ana', message: '回滚到版本 1', version: contentVersion(BLAST) }));
      expect(res.body.in_force.applied).toBe(true);
      expect(readFileSync(blastPath(), 'utf8')).toBe(BLAST);
      expect(c.services.rules.current!.topics.find((t) => t.id === 'blast')!.event).toEqual(['爆炸']);
      const audit = await c.store.searchAudit({ action: ['rules.rollback'] });
      expect(audit.items).toEqual([
        expect.objectContaining({ user: 'ana', before: { version: current.version, history: 3 }, after: expect.objectContaining({ history: 4, restored: 1 }) }),
      ]);
    });

    it('records a change made on disk when the history is next read', async () => {
      const edited = `${BLAST}  - id: leak\n    name: 泄漏\n    event: [泄漏]\n`;
      writeFileSync(blastPath(), edited);
      const versions = (await dan.get(`/api/rules/files/${blastId}/history`)).body.versions;
      expect(versions[0]).toEqual(expect.objectContaining({ n: 5, author: '(external)', version: contentVersion(edited) }));
      expect((await dan.get(`/api/rules/files/${blastId}/history`)).body.versions).toHaveLength(5);
      writeFileSync(blastPath(), BLAST);
    });
  });

  describe('who may do what', () => {
    it('lets duty read, validate, test and backtest, but not save or roll back', async () => {
      const current = (await dan.get(`/api/rules/files/${collapseId}`)).body;
      const save = await dan.put(`/api/rules/files/${collapseId}`, { text: COLLAPSE.replace('[坍塌]', '[坍塌, 倒塌]'), base_version: current.version });
      expect(save.status).toBe(403);
      expect(save.body.code).toBe('SB_CONSOLE_FORBIDDEN');
      const rollback = await dan.post(`/api/rules/files/${collapseId}/history/1/rollback`, { base_version: current.version });
      expect(rollback.status).toBe(403);
      expect(readFileSync(join(dir, 'b-collapse.yaml'), 'utf8')).toBe(COLLAPSE);
    });

    it('lets an admin save, and refuses a save without the CSRF token or a session', async () => {
      const adm = await c.login('adm');
      const current = (await adm.get(`/api/rules/files/${collapseId}`)).body;
      const text = COLLAPSE.replace('[坍塌]', '[坍塌, 倒塌]');
      const noCsrf = await adm.put(`/api/rules/files/${collapseId}`, { text, base_version: current.version }, { csrf: false });
      expect(noCsrf.status).toBe(403);
      expect(noCsrf.body.code).toBe('SB_CONSOLE_CSRF');
      expect((await c.anonymous().put(`/api/rules/files/${collapseId}`, { text, base_version: current.version })).status).toBe(401);
      const ok = await adm.put(`/api/rules/files/${collapseId}`, { text, base_version: current.version });
      expect(ok.status).toBe(200);
      expect(ok.body.history.author).toBe('adm');
    });
  });
});
