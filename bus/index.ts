import type { Config } from '../core/config';
import type { EmbeddedDatabase } from '../core/embedded-db';
import type { Logger } from '../core/logger';
import { createEmbeddedBus } from './embedded';
import { createKafkaBus } from './kafka';
import type { Bus } from './types';

export type { Bus, BusMessage, OutgoingMessage, Subscription, SubscribeOptions, BatchHandler, PartitionLag } from './types';

export interface CreateBusOptions {
  log?: Logger;
  /** How the embedded bus reaches the shared embedded database. */
  openDatabase: () => Promise<EmbeddedDatabase>;
}

/** Kafka when brokers are configured, else the embedded durable log. */
export function createBus(config: Config, options: CreateBusOptions): Bus {
  const common = { topics: config.bus.topics, retentionHours: config.bus.retention_hours, ...(options.log ? { log: options.log } : {}) };
  return config.bus.kafka
    ? createKafkaBus({ ...common, kafka: config.bus.kafka, maxMessageBytes: config.bus.max_message_bytes })
    : createEmbeddedBus({ ...common, openDatabase: options.openDatabase });
}
