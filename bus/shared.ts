import type { TopicsConfig } from '../core/config';
import { ShaobingError } from '../core/errors';
import { withRetry } from '../core/retry';
import { DEFAULT_MAX_RETRY_DELAY_MS, type BatchContext, type BusMessage, type SubscribeOptions, type TopicRole } from './types';

export function topicSpec(topics: TopicsConfig, role: TopicRole): TopicsConfig[TopicRole] {
  const spec = (topics as Partial<TopicsConfig>)[role];
  if (!spec) throw new ShaobingError('SB_BUS_UNKNOWN_TOPIC', `unknown topic role "${String(role)}" (known: ${Object.keys(topics).join(', ')})`);
  return spec;
}

/**
 * Runs the handler on one batch until it succeeds: retriable failures back off (heartbeating
 * meanwhile), anything else propagates and ends the subscription. Stopping aborts the wait.
 */
export function runBatchHandler(options: SubscribeOptions, batch: BusMessage[], context: BatchContext, signal: AbortSignal): Promise<void> {
  return withRetry(() => options.handler(batch, context), {
    signal,
    maxDelayMs: options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
    whileWaiting: context.heartbeat,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
}
