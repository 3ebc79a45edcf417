import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from './errors';

export interface RetryOptions {
  /** First delay; default 200. */
  initialDelayMs?: number;
  /** Cap of the exponential backoff; default 30000. */
  maxDelayMs?: number;
  /** Attempts in all, the first included; default unlimited (for outages that must not lose data). */
  maxAttempts?: number;
  /** Aborting ends the wait at once and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Default: everything but programming errors and non-retriable ShaobingErrors. */
  shouldRetry?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Runs while waiting, about every 3 s (e.g. a Kafka heartbeat during a long outage). */
  whileWaiting?: () => Promise<void>;
}

/** Exponential backoff with full jitter, in the manner of kafkajs' retrier. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { initialDelayMs = 200, maxDelayMs = 30_000, maxAttempts = Infinity, signal } = options;
  const shouldRetry = options.shouldRetry ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !shouldRetry(error) || signal?.aborted) throw error;
      const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      options.onRetry?.(error, attempt, delayMs);
      await wait(delayMs, signal, options.whileWaiting);
    }
  }
}

async function wait(delayMs: number, signal: AbortSignal | undefined, whileWaiting: (() => Promise<void>) | undefined): Promise<void> {
  const slice = whileWaiting ? 3000 : delayMs;
  for (let left = delayMs; left > 0; left -= slice) {
    await sleep(Math.min(slice, left), undefined, signal ? { signal } : undefined);
    if (whileWaiting && left > slice) await whileWaiting().catch(() => undefined);
  }
}
