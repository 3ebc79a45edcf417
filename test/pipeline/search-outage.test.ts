import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus } from '../../bench/corpus';
import { createBus } from '../../bus';
import type { Bus } from '../../bus/types';
import { isProcessAlive } from '../../core/process';
import { startEsCompatProxy, type EsCompatProxy } from '../../infra/es-compat-proxy';
import { startOpenSearch, type OpenSearchService } from '../../infra/opensearch';
import { eventually, openDatabaseFor, removeDataDir, servicesSkipped, uniqueName } from '../support/backends';
import {
  checkAlertFigures,
  eventsById,
  pipelineConfig,
  replayRuns,
  waitForLag,
  type PipelineProcess,
} from '../support/pipeline-process';

/**
 * The search engine goes away for 30 s while documents flow: this test's own OpenSearch process is
 * killed (SIGKILL, the harshest real stop: no flush, the translog replays on restart) and started
 * again on its data dir after 30 s. A frozen process (SIGSTOP) would only test timeouts, and closing
 * the compat proxy would leave the engine's own recovery untested. Meanwhile the pipeline retries
 * with backoff, /readyz says why it is not ready, and the group commits nothing, since nothing
 * could be stored. Afterwards the store holds exactly the documents and alerts of a run that saw
 * no outage (on the shared engine), and the same events went out.
 */

const DOCUMENTS = 3_000;
const OUTAGE_MS = 30_000;

(servicesSkipped ? describe.skip : describe)('pipeline across a 30 s search-engine outage (Kafka + own OpenSearch)', () => {
  const engineDir = mkdtempSync(join(tmpdir(), 'shaobing-engine-'));
  const corpus = buildCorpus({ size: DOCUMENTS, seed: 31 });
  const name = uniqueName('outage');
  const brokers = process.env.SHAOBING_TEST_KAFKA_BROKERS?.split(',');
  let engine: OpenSearchService;
  let proxy: EsCompatProxy;
  let bus: Bus;
  let configs: { reference: ReturnType<typeof pipelineConfig>; outage: ReturnType<typeof pipelineConfig> };

  beforeAll(async () => {
    engine = await startOpenSearch({ dataDir: engineDir, heapMb: 512 });
    proxy = await startEsCompatProxy({ target: engine.url });
    configs = {
      reference: pipelineConfig({ name, brokers, esNode: process.env.SHAOBING_TEST_ES_URL, partitions: 1, outputName: `${name}-ref` }),
      outage: pipelineConfig({ name, brokers, esNode: proxy.url, partitions: 1, outputName: `${name}-outage` }),
    };
    bus = createBus(configs.reference.config, { openDatabase: openDatabaseFor(configs.reference.config) });
    await bus.start();
    for (let i = 0; i < corpus.length; i += 1000) await bus.publish('documents', corpus.slice(i, i + 1000).map((d) => ({ key: d.id, value: d })));
  }, 300_000);

  afterAll(async () => {
    await runs.close();
    await bus?.stop();
    await proxy?.close();
    await engine?.stop();
    rmSync(engineDir, { recursive: true, force: true, maxRetries: 3 });
    if (configs) Object.values(configs).forEach((c) => removeDataDir(c.config));
  }, 60_000);

  const runs = replayRuns(() => bus, corpus);
  const start = runs.start;
  const finish = runs.finish;

  const readyz = async (child: PipelineProcess) => {
    const response = await fetch(`${await child.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { checks: Record<string, { ready: boolean; detail?: string }> } };
  };

  it('retries with backoff, reports the store unreachable, commits nothing meanwhile, and ends as an undisturbed run', async () => {
    const reference = await finish(configs.reference, start(configs.reference));
    expect(reference.snapshot.alerts.length).toBeGreaterThan(20);

    const group = configs.outage.config.pipeline.group;
    const run = start(configs.outage);
    const lagAtStop = await waitForLag(bus, group, (lag) => lag < DOCUMENTS - 300, 600_000, run.alive);
    expect(lagAtStop).toBeGreaterThan(0);
    process.kill(engine.pid, 'SIGKILL');
    for (let i = 0; i < 100 && isProcessAlive(engine.pid); i++) await new Promise((r) => setTimeout(r, 100));
    const down = Date.now();

    // A batch in flight when the engine died may still have been stored; after that, nothing.
    await new Promise((r) => setTimeout(r, 5_000));
    const frozen = await waitForLag(bus, group, () => true, 10_000);
    expect(frozen).toBeGreaterThan(0);
    // Readiness turns once a batch has failed; a batch caught between the lease and its store
    // write may take a few more seconds to fail than the 5 s above.
    const ready = await eventually(() => readyz(run.child), (r) => r.status === 503, 15_000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.pipeline).toEqual({ ready: false, detail: expect.stringMatching(/^batches failing since .*retrying with backoff: .*(unreachable|ECONNREFUSED|502)/) });
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - down)));
    expect(await waitForLag(bus, group, () => true, 10_000)).toBe(frozen);
    expect(run.alive()).toBe(true);
    const retries = Number(/shaobing_pipeline_batch_retries_total (\d+)/.exec(await run.child.metrics())?.[1]);
    // Backoff: a few attempts in 30 s, not hundreds.
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(retries).toBeLessThan(30);

    engine = await startOpenSearch({ dataDir: engineDir, port: engine.port, heapMb: 512 });
    const after = await finish(configs.outage, run);
    console.info(`search engine down ${OUTAGE_MS / 1000} s (+ restart) at lag ${lagAtStop}; lag frozen at ${frozen}; ${retries} retries meanwhile`);

    expect(after.snapshot.documents).toEqual(reference.snapshot.documents);
    expect(after.snapshot.alerts).toEqual(reference.snapshot.alerts);
    expect(await checkAlertFigures(after.store, after.snapshot.alerts)).toEqual([]);
    expect(eventsById(after.events)).toEqual(eventsById(reference.events));
  }, 1_200_000);
});
