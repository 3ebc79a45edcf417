import {
  Kafka,
  KafkaJSError,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { KafkaConfig, TopicsConfig } from '../core/config';
import { ShaobingError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { stopOnce } from '../core/lifecycle';
import { withRetry } from '../core/retry';
import { runBatchHandler, topicSpec } from './shared';
import {
  DEFAULT_MAX_BATCH_SIZE,
  encodeValue,
  type Bus,
  type BusMessage,
  type PartitionLag,
  type SubscribeOptions,
  type Subscription,
  type TopicRole,
} from './types';

export interface KafkaBusOptions {
  kafka: KafkaConfig;
  topics: TopicsConfig;
  /** Kafka topic retention for topics this bus creates; default 168 (a week). */
  retentionHours?: number;
  /** Partitions of one topic a member processes at once; default 1. */
  partitionsConsumedConcurrently?: number;
  /** max.message.bytes of the topics this bus creates, and the consumers' fetch size per partition; default 4 MiB. */
  maxMessageBytes?: number;
  log?: Logger;
}

/** Group-membership errors after which a consumer must join its group again (kafkajs does not retry them). */
const REJOINABLE = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

/** The protocol error's type may sit under kafkajs' KafkaJSNonRetriableError wrapper. */
function rejoinable(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.type && REJOINABLE.has(e.type)) return true;
  }
  return false;
}

/** kafkajs behind the Bus interface: explicit topics, an idempotent producer, commits after the work. */
export function createKafkaBus(options: KafkaBusOptions): Bus {
  const log = options.log ?? silentLogger;
  const { kafka: config } = options;
  const kafka = new Kafka({
    clientId: config.client_id,
    brokers: config.brokers,
    ssl: config.ssl,
    ...(config.sasl ? { sasl: { ...config.sasl } as SASLOptions } : {}),
    connectionTimeout: config.connection_timeout_ms,
    requestTimeout: config.request_timeout_ms,
    retry: { initialRetryTime: 300, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      const level = entry.level === KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
      log[level]({ kafka: entry.namespace, ...extra }, `kafka: ${message}`);
    },
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const subscriptions = new Set<Subscription>();
  let admin: Admin | undefined;
  let started: Promise<void> | undefined;
  let stopped = false;

  const live = () => {
    if (stopped) throw new ShaobingError('SB_BUS_STOPPED', 'the Kafka bus has been stopped');
  };

  const bus: Bus = {
    kind: 'kafka',

    start() {
      live();
      started ??= (async () => {
        admin = kafka.admin();
        await admin.connect();
        await ensureTopics(admin, options.topics, options.retentionHours ?? 168, maxMessageBytes);
        await producer.connect();
      })().catch((err: unknown) => {
        started = undefined;
        throw asBusError(err, `cannot start the Kafka bus (${config.brokers.join(', ')})`);
      });
      return started;
    },

    async publish(topic, messages) {
      live();
      if (messages.length === 0) return;
      await bus.start();
      const { name } = topicSpec(options.topics, topic);
      const encoded = messages.map((m) => ({ key: m.key, value: encodeValue(m.value), headers: m.headers ?? {} }));
      // The broker refuses a record batch larger than the topic's max.message.bytes, however small
      // each message in it: large messages go in several requests, in order (one in flight).
      for (const chunk of byteChunks(encoded, maxMessageBytes)) {
        try {
          await producer.send({ topic: name, acks: -1, messages: chunk });
        } catch (err) {
          throw asBusError(err, `cannot publish ${chunk.length} message(s) to ${name}`);
        }
      }
    },

    async subscribe(subscribeOptions) {
      live();
      await bus.start();
      const subscription = await runConsumer(subscribeOptions);
      subscriptions.add(subscription);
      void subscription.done.catch(() => undefined).finally(() => subscriptions.delete(subscription));
      return subscription;
    },

    async lag(group, topic) {
      live();
      await bus.start();
      const { name } = topicSpec(options.topics, topic);
      const [ends, [committed]] = await Promise.all([
        admin!.fetchTopicOffsets(name),
        admin!.fetchOffsets({ groupId: group, topics: [name] }),
      ]);
      return ends.map((end): PartitionLag => {
        const mine = committed?.partitions.find((p) => p.partition === end.partition);
        const from = mine && mine.offset !== '-1' ? Number(mine.offset) : Number(end.low);
        return { topic, partition: end.partition, lag: Number(end.high) - from };
      });
    },

    stop: stopOnce(async () => {
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      stopped = true;
      await Promise.allSettled([producer.disconnect(), admin?.disconnect()]);
    }),
  };

  async function runConsumer(opts: SubscribeOptions): Promise<Subscription> {
    const { name } = topicSpec(options.topics, opts.topic);
    const maxBatchSize = opts.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    const createConsumer = (): Consumer =>
      kafka.consumer({
        groupId: opts.group,
        allowAutoTopicCreation: false,
        sessionTimeout: config.session_timeout_ms,
        heartbeatInterval: Math.min(3_000, Math.floor(config.session_timeout_ms / 3)),
        maxBytesPerPartition: maxMessageBytes,
        retry: { initialRetryTime: 300, retries: 30 },
      });
    let consumer = createConsumer();
    const abort = new AbortController();
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

    const end = stopOnce(async () => {
      abort.abort(new ShaobingError('SB_BUS_STOPPED', 'subscription stopped'));
      await consumer.disconnect().catch((err: unknown) => log.warn({ err }, 'kafka: consumer disconnect failed'));
    });
    /** A handler bug or a consumer that gave up ends the subscription; disconnecting inside eachBatch would deadlock. */
    const fail = (err: unknown) => {
      if (abort.signal.aborted) return;
      setImmediate(() => void end().then(() => settle.reject(err)));
      abort.abort(err);
    };

    const launch = async (member: Consumer) => {
      member.on(member.events.CRASH, ({ payload }) => {
        if (payload.restart || abort.signal.aborted) return;
        // Dropped from the group (a batch outlasted the session under load, a broker restarted):
        // kafkajs gives up on these, but joining again as a new member is all they need.
        if (rejoinable(payload.error)) {
          log.warn({ err: payload.error, group: opts.group }, 'kafka: consumer dropped from its group; joining again');
          setImmediate(() => void relaunch());
          return;
        }
        fail(asBusError(payload.error, `Kafka consumer of ${name} (group ${opts.group}) stopped`));
      });
      await member.connect();
      await member.subscribe({ topic: name, fromBeginning: true });
      await member.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.concurrentPartitions ?? options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }) => {
          for (let i = 0; i < batch.messages.length; i += maxBatchSize) {
            if (abort.signal.aborted || !isRunning() || isStale()) return;
            const chunk = batch.messages.slice(i, i + maxBatchSize);
            const messages = chunk.map((m) => toBusMessage(opts.topic, batch.partition, m));
            try {
              await runBatchHandler(opts, messages, { heartbeat }, abort.signal);
            } catch (err) {
              fail(err);
              return;
            }
            const last = chunk[chunk.length - 1]!.offset;
            await member.commitOffsets([{ topic: name, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
            resolveOffset(last);
            await heartbeat();
          }
        },
      });
    };

    const relaunch = async () => {
      await consumer.disconnect().catch(() => undefined);
      if (abort.signal.aborted) return;
      consumer = createConsumer();
      await withRetry(() => launch(consumer), { signal: abort.signal, maxDelayMs: 10_000 }).catch((err: unknown) =>
        fail(asBusError(err, `cannot rejoin group ${opts.group} on ${name}`)),
      );
    };

    try {
      await launch(consumer);
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw asBusError(err, `cannot subscribe group ${opts.group} to ${name}`);
    }

    return {
      done,
      stop: async () => {
        await end();
        settle.resolve();
      },
    };
  }

  return bus;
}

async function ensureTopics(admin: Admin, topics: TopicsConfig, retentionHours: number, maxMessageBytes: number): Promise<void> {
  const specs = Object.values(topics);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replication_factor,
          configEntries: [
            { name: 'retention.ms', value: String(retentionHours * 3_600_000) },
            { name: 'max.message.bytes', value: String(maxMessageBytes) },
          ],
        })),
      });
    } catch (err) {
      // Another process may have created them a moment ago.
      if (!(err instanceof KafkaJSError && /already exists/i.test(err.message))) throw err;
    }
  }
  const present = specs.filter((s) => existing.has(s.name));
  if (present.length === 0) return;
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
  const grow = present.filter((s) => (metadata.find((m) => m.name === s.name)?.partitions.length ?? s.partitions) < s.partitions);
  if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map((s) => ({ topic: s.name, count: s.partitions })) });
}

/** Consecutive runs of messages whose encoded size stays within `limit`; a larger message goes alone. */
function byteChunks<T extends { key: string; value: Buffer; headers: Record<string, string> }>(messages: T[], limit: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    // Record overhead (lengths, offsets, timestamps) is well under 100 bytes per message.
    const size = m.value.length + Buffer.byteLength(m.key) + Object.entries(m.headers).reduce((s, [k, v]) => s + k.length + Buffer.byteLength(v), 0) + 100;
    if (current.length > 0 && bytes + size > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function toBusMessage(topic: TopicRole, partition: number, m: KafkaMessage): BusMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key?.toString('utf8') ?? '',
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
  };
}

function asBusError(err: unknown, context: string): ShaobingError {
  if (err instanceof ShaobingError) return err;
  const retriable = err instanceof KafkaJSError ? err.retriable || /connect|timeout|leader|coordinator/i.test(err.message) : true;
  const message = err instanceof Error ? err.message : String(err);
  return new ShaobingError(retriable ? 'SB_BUS_UNAVAILABLE' : 'SB_BUS_REJECTED', `${context}: ${message}`, { cause: err, retriable });
}
