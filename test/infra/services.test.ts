import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';

/** The services test/setup/global-setup.ts provides, seen the way production code sees them. */
const esUrl = process.env.SHAOBING_TEST_ES_URL;
const brokers = process.env.SHAOBING_TEST_KAFKA_BROKERS?.split(',');

(esUrl ? describe : describe.skip)('search engine through the official Elasticsearch 8.x client', () => {
  const client = new Client({ node: esUrl ?? 'http://unused' });
  const index = `shaobing-infra-${randomUUID()}`;

  afterAll(async () => {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.close();
  });

  it('answers info() despite being OpenSearch', async () => {
    const info = await client.info();
    expect(info.version.number).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('creates an index, indexes with bulk and a single doc, and searches', async () => {
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { properties: { title: { type: 'text', analyzer: 'whitespace' }, source: { type: 'keyword' }, at: { type: 'date' } } },
    });
    await client.index({ index, id: 'a', document: { title: '哨兵 舆情 监测', source: 'weibo', at: '2024-03-05T10:20:00Z' }, refresh: 'wait_for' });
    const bulk = await client.bulk({
      refresh: 'wait_for',
      operations: [{ index: { _index: index, _id: 'b' } }, { title: '新闻 监测', source: 'news', at: '2024-03-06T08:00:00Z' }],
    });
    expect(bulk.errors).toBe(false);

    const result = await client.search<{ source: string }>({
      index,
      query: { bool: { must: [{ match: { title: '监测' } }], filter: [{ range: { at: { gte: '2024-03-01' } } }] } },
      aggs: { by_source: { terms: { field: 'source' } } },
    });
    const total = typeof result.hits.total === 'number' ? result.hits.total : result.hits.total?.value;
    expect(total).toBe(2);
    expect(result.hits.hits.map((h) => h._source?.source).sort()).toEqual(['news', 'weibo']);
  });

  it('supports optimistic concurrency with if_seq_no / if_primary_term', async () => {
    const doc = await client.get({ index, id: 'a' });
    await client.index({ index, id: 'a', document: { title: '更新', source: 'weibo' }, if_seq_no: doc._seq_no, if_primary_term: doc._primary_term });
    await expect(
      client.index({ index, id: 'a', document: { title: '冲突', source: 'weibo' }, if_seq_no: doc._seq_no, if_primary_term: doc._primary_term }),
    ).rejects.toMatchObject({ meta: { statusCode: 409 } });
  });
});

(brokers ? describe : describe.skip)('kafka', () => {
  const kafka = new Kafka({ clientId: 'shaobing-infra-test', brokers: brokers ?? [], logLevel: logLevel.NOTHING });
  const topic = `shaobing-infra-${randomUUID()}`;

  it('round-trips a message through an explicitly created topic', async () => {
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k', value: '哨兵' }] });

      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
      });
      await expect(received).resolves.toBe('哨兵');
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  }, 60_000);
});
