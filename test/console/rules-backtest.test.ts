import { BacktestJobs, type BacktestJob } from '../../console/rules/backtest';
import { silentLogger } from '../../core/logger';
import { type IndexedDocument, stableId } from '../../core/records';
import { createRuleTrial } from '../../rules/trial';
import type { Store } from '../../store/types';
import { backendKinds, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { doc } from '../support/records';
import { topic, wordSentiment } from '../rules/fixtures';

/**
 * Backtests read the stored documents of the period newest first, a page at a time by time, and
 * compare the file's topics as they run with the edited ones. Pages of 4 over 17 documents, seven
 * of them published in the same millisecond, check that paging by time neither skips nor repeats.
 */

const NOW = new Date('2026-03-10T00:00:00Z');
const SAME_MS = '2026-03-08T06:00:00.123Z';

const before = [topic({ id: 'blast', name: '化工厂爆炸', subject: ['化工厂'], event: ['爆炸'], threshold: 0.2 })];
const after = [
  topic({ id: 'blast', name: '化工厂爆炸', subject: ['化工厂'], event: ['爆炸', '起火'], exclude: ['演练'], threshold: 0.2 }),
  topic({ id: 'collapse', name: '建筑坍塌', subject: ['工地'], event: ['坍塌'], threshold: 0.2 }),
];

const at = (day: number, hour: number) => new Date(Date.UTC(2026, 2, day, hour)).toISOString();
const DOCS: IndexedDocument[] = [
  doc({ key: 'blast-1', title: '珠海石化厂爆炸', text: '今日，广东珠海高栏港一化工厂发生爆炸，现场火光冲天。', published_at: at(9, 10) }),
  doc({ key: 'blast-2', title: '化工厂爆炸', text: '江苏响水一化工厂发生爆炸事故。', published_at: at(5, 8) }),
  doc({ key: 'blast-3', title: '通报', text: '当地一化工厂凌晨发生爆炸，无人员伤亡。', published_at: SAME_MS }),
  doc({ key: 'fire-1', title: '化工厂起火', text: '一化工厂仓库起火，消防人员已赶赴现场。', published_at: at(9, 2) }),
  doc({ key: 'fire-2', title: '起火', text: '某化工厂车间突然起火，浓烟滚滚。', published_at: at(4, 1) }),
  doc({ key: 'drill', title: '应急演练', text: '市消防支队在一化工厂开展爆炸事故应急演练。', published_at: at(7, 12) }),
  doc({ key: 'collapse', title: '工地坍塌', text: '武汉一建筑工地发生坍塌，11名作业人员被困。', published_at: at(6, 9) }),
  ...Array.from({ length: 6 }, (_, i) => doc({ key: `tie-${i}`, title: `防汛通报 ${i}`, text: '国务院新闻办公室今天举行新闻发布会，介绍防汛抗旱工作情况。', published_at: SAME_MS })),
  ...Array.from({ length: 4 }, (_, i) => doc({ key: `other-${i}`, title: `交付 ${i}`, text: '武汉火神山医院今天交付，将于2月3日开始收治患者。', published_at: at(3, 1 + i) })),
  // Before the period: never read.
  doc({ key: 'old-blast', title: '化工厂爆炸', text: '一化工厂发生爆炸。', published_at: at(1, 0) }),
];
const IN_PERIOD = DOCS.length - 1;
const idOf = (key: string) => stableId('doc', key);

async function finished(jobs: BacktestJobs, id: string): Promise<BacktestJob> {
  return eventually(() => jobs.get(id) as BacktestJob, (job) => job.status !== 'running');
}

describe.each(backendKinds)('backtest (%s store)', (kind) => {
  const config = testConfig(kind);
  let store: Store;
  const jobs = () =>
    new BacktestJobs({ store, trial: () => createRuleTrial({ sentiment: wordSentiment }), log: silentLogger, now: () => NOW, pageSize: 4 });

  beforeAll(async () => {
    store = storeFor(config);
    await store.init();
    await store.putDocuments(DOCS);
    await store.refresh();
  });

  afterAll(async () => {
    await store.close();
    removeDataDir(config);
  });

  it('lists what an edit newly matches and stops matching, per topic, reading each document of the period once', async () => {
    const backtests = jobs();
    const started = backtests.start({ file: 'f1', before, after, from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW, maxDocuments: 1000, user: 'li' });
    expect(started).toEqual(expect.objectContaining({ status: 'running', file: 'f1', user: 'li' }));
    const job = await finished(backtests, started.id);

    expect(job).toEqual(expect.objectContaining({ status: 'done', scanned: IN_PERIOD, total: IN_PERIOD, added_count: 3, removed_count: 1, unchanged: 3 }));
    // Newest first, each with the score and level under the side it matched on.
    expect(job.added.map((d) => [d.topic, d.id])).toEqual([
      ['blast', idOf('fire-1')],
      ['collapse', idOf('collapse')],
      ['blast', idOf('fire-2')],
    ]);
    expect(job.added[0]).toEqual(
      expect.objectContaining({ title: '化工厂起火', source: '新华网', platform: 'news', published_at: at(9, 2), level: expect.any(Number), score: expect.any(Number) }),
    );
    expect(job.removed).toEqual([expect.objectContaining({ topic: 'blast', id: idOf('drill'), title: '应急演练' })]);
    expect(job.removed[0]!.score).toBeGreaterThanOrEqual(0.2);
    expect(job.topics).toEqual([
      { topic: 'blast', name: '化工厂爆炸', added: 2, removed: 1, unchanged: 3 },
      { topic: 'collapse', name: '建筑坍塌', added: 1, removed: 0, unchanged: 0 },
    ]);
  });

  it('reads at most max_documents, the newest', async () => {
    const backtests = jobs();
    const { id } = backtests.start({ file: 'f1', before, after, from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW, maxDocuments: 3, user: 'li' });
    const job = await finished(backtests, id);
    // The three newest: blast-1 (9th 10:00), fire-1 (9th 02:00), then the lowest id of the same-millisecond batch.
    const third = DOCS.filter((d) => d.published_at === SAME_MS).map((d) => d.id).sort()[0];
    const unchanged = third === idOf('blast-3') ? 2 : 1;
    expect(job).toEqual(expect.objectContaining({ status: 'done', scanned: 3, total: 3, added_count: 1, unchanged }));
    expect(job.added.map((d) => d.id)).toEqual([idOf('fire-1')]);
  });

  it('refuses more jobs than it runs at once, and keeps finished ones readable', async () => {
    const backtests = new BacktestJobs({ store, trial: () => createRuleTrial({ sentiment: wordSentiment }), log: silentLogger, now: () => NOW, maxRunning: 1 });
    const spec = { file: 'f1', before, after, from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW, maxDocuments: 1000, user: 'li' };
    const first = backtests.start(spec);
    expect(() => backtests.start(spec)).toThrow(expect.objectContaining({ code: 'SB_RULES_BACKTEST_BUSY', status: 429 }));
    await finished(backtests, first.id);
    const second = backtests.start(spec);
    expect((await finished(backtests, second.id)).status).toBe('done');
    expect(backtests.get(first.id)?.status).toBe('done');
    expect(backtests.get('no-such-job')).toBeUndefined();
  });

  it('reports a job that fails, with the reason', async () => {
    const backtests = new BacktestJobs({
      store,
      trial: () => {
        throw new Error('sentiment model missing');
      },
      log: silentLogger,
      now: () => NOW,
    });
    const { id } = backtests.start({ file: 'f1', before, after, from: new Date(NOW.getTime() - 86_400_000), to: NOW, maxDocuments: 10, user: 'li' });
    expect(await finished(backtests, id)).toEqual(expect.objectContaining({ status: 'failed', error: 'sentiment model missing' }));
  });
});
