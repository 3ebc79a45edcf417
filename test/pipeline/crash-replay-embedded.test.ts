import { buildCorpus, seededRandom } from '../../bench/corpus';
import { busFor, removeDataDir, storeFor } from '../support/backends';
import {
  checkAlertFigures,
  eventsById,
  pipelineConfig,
  readEvents,
  reportedLag,
  snapshot,
  startPipelineProcess,
  type PipelineProcess,
  type Snapshot,
} from '../support/pipeline-process';

/**
 * crash-replay.test.ts on the embedded bus and store, the default install: a pipeline killed
 * with SIGKILL at random moments of a replay ends with exactly the documents, alerts and events of
 * an uninterrupted run. The embedded backends admit one process per data dir, so the test reads
 * the pipeline's progress from its consumer-lag gauge, and opens the data dir only once it exits.
 */

const DOCUMENTS = 10_000;
const KILLS = 3;

describe('embedded pipeline killed with SIGKILL during a 10,000-document replay', () => {
  const corpus = buildCorpus({ size: DOCUMENTS, seed: 41 });
  // Batches of 100, so that a kill can fall inside one of twenty.
  const reference = pipelineConfig({ batchSize: 100 });
  const crashed = pipelineConfig({ batchSize: 100 });
  const seed = Number(process.env.SHAOBING_TEST_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const children: PipelineProcess[] = [];

  beforeAll(async () => {
    for (const { config } of [reference, crashed]) {
      const bus = busFor(config);
      for (let i = 0; i < corpus.length; i += 500) await bus.publish('documents', corpus.slice(i, i + 500).map((d) => ({ key: d.id, value: d })));
      await bus.stop();
    }
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    removeDataDir(reference.config);
    removeDataDir(crashed.config);
  });

  const start = (config: typeof reference) => {
    const child = startPipelineProcess(config.file);
    children.push(child);
    let exited = false;
    void child.exited.then(() => (exited = true));
    return { child, alive: () => !exited };
  };

  async function lagUntil(run: ReturnType<typeof start>, until: (lag: number) => boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lag = await reportedLag(run.child);
      if (lag !== undefined && until(lag)) return lag;
      if (!run.alive()) throw new Error(`the pipeline exited: ${run.child.log().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`lag ${lag} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function started(run: ReturnType<typeof start>): Promise<void> {
    while (!run.child.log().includes('"msg":"shaobing daemon started"')) {
      if (!run.alive()) throw new Error(`the pipeline exited: ${run.child.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function runToEnd(config: typeof reference): Promise<{ snapshot: Snapshot; alertsWrong: string[]; seconds: number }> {
    const run = start(config);
    await started(run);
    const began = Date.now();
    await lagUntil(run, (lag) => lag === 0, 600_000);
    const seconds = (Date.now() - began) / 1000;
    run.child.kill('SIGTERM');
    expect(await run.child.exited).toEqual({ code: 0, signal: null });
    const store = storeFor(config.config);
    try {
      const result = await snapshot(store, corpus);
      return { snapshot: result, alertsWrong: await checkAlertFigures(store, result.alerts), seconds };
    } finally {
      await store.close();
    }
  }

  it(`ends with the documents, alerts and events of an uninterrupted run after ${KILLS} kills`, async () => {
    const uninterrupted = await runToEnd(reference);
    expect(uninterrupted.snapshot.documents).toHaveLength(new Set(corpus.map((d) => d.id)).size);
    expect(uninterrupted.snapshot.alerts.length).toBeGreaterThan(20);
    expect(uninterrupted.alertsWrong).toEqual([]);

    const killedAt: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const run = start(crashed);
      // Its HTTP answers are too slow for aiming (PGlite's queries run on the event loop, the
      // pipeline's first): a random moment between 15% and 65% of the time the uninterrupted run
      // would take for what is left (so it falls during the replay however fast the pipeline
      // is), then the lag read from the data dir once the process is gone.
      const left = k === 0 ? DOCUMENTS : (killedAt[k - 1] as number);
      await started(run);
      await new Promise((r) => setTimeout(r, Math.floor((0.15 + random() * 0.5) * (left / DOCUMENTS) * uninterrupted.seconds * 1000)));
      run.child.kill('SIGKILL');
      expect((await run.child.exited).signal).toBe('SIGKILL');
      const bus = busFor(crashed.config);
      killedAt.push((await bus.lag(crashed.config.pipeline.group, 'documents')).reduce((sum, p) => sum + p.lag, 0));
      await bus.stop();
    }
    // Every kill fell during the replay, not after it, and at least one after some progress (so a
    // restart found committed work as well as a batch to redeliver); a kill may also come before
    // a restarted process committed anything, which is a crash worth surviving too.
    expect({ killedAt, during: killedAt.every((lag) => lag > 0), progressed: killedAt.some((lag) => lag < DOCUMENTS) }).toEqual({ killedAt, during: true, progressed: true });
    const after = await runToEnd(crashed);
    console.info(`embedded crash replay (seed ${seed}): killed at lag ${killedAt.join(', ')}`);

    expect(after.alertsWrong).toEqual([]);
    expect(after.snapshot.documents).toEqual(uninterrupted.snapshot.documents);
    expect(after.snapshot.alerts).toEqual(uninterrupted.snapshot.alerts);
    const [mine, theirs] = [await readEvents(crashed.config), await readEvents(reference.config)];
    expect(eventsById(theirs).size).toBe(theirs.length);
    expect(eventsById(mine)).toEqual(eventsById(theirs));
  }, 1_200_000);
});
