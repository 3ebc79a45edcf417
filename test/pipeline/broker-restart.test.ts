import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus } from '../../bench/corpus';
import { createBus } from '../../bus';
import type { Bus } from '../../bus/types';
import { isProcessAlive } from '../../core/process';
import { startKafka, type KafkaService } from '../../infra/kafka';
import { openDatabaseFor, removeDataDir, servicesSkipped, uniqueName } from '../support/backends';
import {
  checkAlertFigures,
  eventsById,
  pipelineConfig,
  replayRuns,
  waitForLag,
} from '../support/pipeline-process';

/**
 * The Kafka broker dies under a running pipeline, twice: killed with SIGKILL, then stopped
 * cleanly, each time started again on its data dir. The pipeline process keeps running, resumes,
 * and ends with exactly the documents, alerts and events of a run that saw no outage. The broker
 * is one of this test's own (same data dir and ports on restart), so other test files keep theirs;
 * the store is the shared search engine under this test's index prefixes.
 */

const DOCUMENTS = 3_000;

(servicesSkipped ? describe.skip : describe)('pipeline across Kafka broker restarts (own broker + search engine)', () => {
  const kafkaDir = mkdtempSync(join(tmpdir(), 'shaobing-broker-'));
  const corpus = buildCorpus({ size: DOCUMENTS, seed: 21 });
  const name = uniqueName('broker');
  let kafka: KafkaService;
  let bus: Bus;
  let configs: { reference: ReturnType<typeof pipelineConfig>; restarted: ReturnType<typeof pipelineConfig> };

  const startBroker = async () => {
    kafka = await startKafka({ dataDir: kafkaDir, ...(kafka ? { port: kafka.port, controllerPort: kafka.controllerPort } : {}) });
  };

  beforeAll(async () => {
    await startBroker();
    const common = { name, brokers: kafka.brokers, esNode: process.env.SHAOBING_TEST_ES_URL, partitions: 1 };
    configs = { reference: pipelineConfig({ ...common, outputName: `${name}-ref` }), restarted: pipelineConfig({ ...common, outputName: `${name}-restart` }) };
    bus = createBus(configs.reference.config, { openDatabase: openDatabaseFor(configs.reference.config) });
    await bus.start();
    for (let i = 0; i < corpus.length; i += 1000) await bus.publish('documents', corpus.slice(i, i + 1000).map((d) => ({ key: d.id, value: d })));
  }, 180_000);

  afterAll(async () => {
    await runs.close();
    await bus?.stop();
    await kafka?.stop();
    rmSync(kafkaDir, { recursive: true, force: true, maxRetries: 3 });
    if (configs) Object.values(configs).forEach((c) => removeDataDir(c.config));
  }, 60_000);

  const runs = replayRuns(() => bus, corpus);
  const start = runs.start;
  const finish = runs.finish;

  it('loses no document and doubles no alert or event when the broker is killed and when it is restarted', async () => {
    const reference = await finish(configs.reference, start(configs.reference));
    expect(reference.snapshot.documents).toHaveLength(new Set(corpus.map((d) => d.id)).size);
    expect(reference.snapshot.alerts.length).toBeGreaterThan(20);

    const group = configs.restarted.config.pipeline.group;
    const run = start(configs.restarted);
    const outages: string[] = [];
    for (const how of ['SIGKILL', 'SIGTERM'] as const) {
      // Mid-stream: the pipeline has made progress and has more to do.
      const before = await waitForLag(bus, group, () => true, 60_000);
      const lagAt = await waitForLag(bus, group, (lag) => lag < Math.min(before, DOCUMENTS) - 300, 600_000, run.alive);
      expect(lagAt).toBeGreaterThan(0);
      if (how === 'SIGKILL') {
        process.kill(kafka.pid, 'SIGKILL');
        for (let i = 0; i < 100 && isProcessAlive(kafka.pid); i++) await new Promise((r) => setTimeout(r, 100));
      } else {
        await kafka.stop();
      }
      // Down long enough for the pipeline's fetches, commits and publishes to fail.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(run.alive()).toBe(true);
      await startBroker();
      outages.push(`${how} at lag ${lagAt}`);
    }
    const after = await finish(configs.restarted, run);
    console.info(`broker outages: ${outages.join(', ')}`);

    expect(after.snapshot.documents).toEqual(reference.snapshot.documents);
    expect(after.snapshot.alerts).toEqual(reference.snapshot.alerts);
    expect(await checkAlertFigures(after.store, after.snapshot.alerts)).toEqual([]);
    expect(eventsById(reference.events).size).toBe(reference.events.length);
    expect(eventsById(after.events)).toEqual(eventsById(reference.events));
  }, 1_200_000);
});
