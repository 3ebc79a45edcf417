import type { TopicRole } from '../core/config';

/**
 * The Bus moves bytes between roles. Producers hand it JSON-able values; consumers get the raw
 * bytes back, because a stage must be able to dead-letter a message that is not even valid UTF-8.
 * Topics are addressed by role (documents, alert_events, dead_letters); names come from config.
 */

export type { TopicRole };

export interface OutgoingMessage {
  /** Partitioning and idempotency key: the document id, the alert id. */
  key: string;
  /** Objects are sent as JSON; a Buffer or string is sent as is. */
  value: unknown;
  headers?: Record<string, string>;
}

export interface BusMessage {
  topic: TopicRole;
  partition: number;
  /** Decimal string, as Kafka reports it. */
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** When the bus accepted the message (ISO 8601). */
  timestamp: string;
}

export interface BatchContext {
  /** Call during long work so the group does not think this member died (Kafka). */
  heartbeat(): Promise<void>;
}

/**
 * Processes a batch from one partition. Resolving means the work is durably done: only then is the
 * offset committed. Throwing a retriable error retries the same batch with backoff (consumption of
 * that partition pauses meanwhile); throwing anything else stops the subscription, since retrying
 * a bug never helps.
 */
export type BatchHandler = (messages: BusMessage[], context: BatchContext) => Promise<void>;

export interface SubscribeOptions {
  group: string;
  topic: TopicRole;
  handler: BatchHandler;
  /** Upper bound on messages per handler call; default 500. */
  maxBatchSize?: number;
  /**
   * Partitions this member handles at once (Kafka; the embedded bus has one at a time); default
   * 1. With more, the handler is called concurrently, one batch per partition.
   */
  concurrentPartitions?: number;
  /** Cap of the retry backoff for a failing batch; default 30000. */
  maxRetryDelayMs?: number;
  /** Called for each failed attempt before it is retried (for logs and metrics). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export interface Subscription {
  /** Settles when the subscription ends: resolves after stop(), rejects on a non-retriable handler error. */
  readonly done: Promise<void>;
  /** Stops fetching and waits for the batch in hand; safe to call twice. */
  stop(): Promise<void>;
}

export interface PartitionLag {
  topic: TopicRole;
  partition: number;
  /** Messages published but not yet committed by the group. */
  lag: number;
}

export interface Bus {
  readonly kind: 'kafka' | 'embedded';
  /** Connects and creates the configured topics that do not exist yet. */
  start(): Promise<void>;
  publish(topic: TopicRole, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  lag(group: string, topic: TopicRole): Promise<PartitionLag[]>;
  /** Stops every subscription and the producer; safe to call twice. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BATCH_SIZE = 500;
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

export function encodeValue(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}
