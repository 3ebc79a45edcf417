import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startKafka } from '../../infra/kafka';
import { startOpenSearch } from '../../infra/opensearch';

/**
 * Chaos tests stop a service and start it again on the same data dir and ports; this pins that
 * contract on services of its own (never the shared ones, which may be a developer's stack).
 */
(process.env.SHAOBING_TEST_SERVICES === 'none' ? describe.skip : describe)('restart on the same data dir', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'shaobing-restart-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('brings Kafka back with its topics and messages', async () => {
    const dataDir = path.join(root, 'kafka');
    const first = await startKafka({ dataDir });
    const kafka = new Kafka({ brokers: first.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic: 'kept', messages: [{ value: 'before restart' }] });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      await first.stop();
    }
    await first.stop();

    const second = await startKafka({ dataDir, port: first.port, controllerPort: first.controllerPort });
    const consumer = new Kafka({ brokers: second.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: 'after-restart' });
    try {
      expect(second.brokers).toEqual(first.brokers);
      await consumer.connect();
      await consumer.subscribe({ topics: ['kept'], fromBeginning: true });
      const received = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
      });
      await expect(received).resolves.toBe('before restart');
    } finally {
      await consumer.disconnect();
      await second.stop();
    }
  }, 120_000);

  it('brings OpenSearch back with its indices', async () => {
    const dataDir = path.join(root, 'opensearch');
    const first = await startOpenSearch({ dataDir });
    try {
      const put = await fetch(`${first.url}/kept/_doc/1?refresh=true`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      expect(put.status).toBe(201);
    } finally {
      await first.stop();
    }
    await first.stop();

    const second = await startOpenSearch({ dataDir, port: first.port });
    try {
      expect(second.url).toBe(first.url);
      const doc = (await (await fetch(`${second.url}/kept/_doc/1`)).json()) as { _source?: unknown };
      expect(doc._source).toEqual({ a: 1 });
    } finally {
      await second.stop();
    }
  }, 180_000);
});
