import { setTimeout as sleep } from 'node:timers/promises';
import { stopOnce } from '../core/lifecycle';
import { silentLogger, type Logger } from '../core/logger';

/**
 * Runs each source on its own interval, with jitter so sources do not fire in step, with backoff
 * after failed rounds (doubling per failure, capped), never overlapping a source with itself, and
 * with at most `maxConcurrent` rounds of different sources at once.
 */

export interface ScheduledTask {
  name: string;
  intervalMs: number;
  /** One round; resolves with whether it failed (feeds the backoff). Must not throw. */
  run(signal: AbortSignal): Promise<{ failed: boolean }>;
}

export interface DelayInput {
  intervalMs: number;
  jitterRatio: number;
  /** Failed rounds in a row. */
  errorStreak: number;
  maxBackoffMs: number;
  /** A number in [0, 1). */
  random: number;
}

/** The wait before a source's next round: interval, doubled per failure up to the cap, ± jitter. */
export function nextDelayMs(input: DelayInput): number {
  const { intervalMs, jitterRatio, errorStreak, maxBackoffMs, random } = input;
  const base = errorStreak > 0 ? Math.min(Math.max(intervalMs, maxBackoffMs), intervalMs * 2 ** Math.min(errorStreak, 20)) : intervalMs;
  return Math.max(0, Math.round(base * (1 + jitterRatio * (2 * random - 1))));
}

/** The wait before a source's first round: spread over a fraction of its interval (at most a minute). */
export function firstDelayMs(intervalMs: number, jitterRatio: number, random: number): number {
  return Math.round(Math.min(intervalMs, 60_000) * jitterRatio * random);
}

export interface SchedulerOptions {
  jitterRatio: number;
  maxBackoffMs: number;
  maxConcurrent: number;
  log?: Logger;
  random?: () => number;
}

export class Scheduler {
  readonly #tasks: ScheduledTask[];
  readonly #options: SchedulerOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(tasks: ScheduledTask[], options: SchedulerOptions) {
    this.#tasks = tasks;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
  }

  start(): void {
    for (const task of this.#tasks) this.#loops.push(this.#loop(task));
  }

  /** Stops waiting, aborts rounds in flight (they finish their bookkeeping) and waits for them. */
  readonly stop = stopOnce(async () => {
    this.#abort.abort(new Error('collector stopping'));
    for (const wake of this.#waiting.splice(0)) wake();
    await Promise.allSettled(this.#loops);
  });

  async #loop(task: ScheduledTask): Promise<void> {
    const random = this.#options.random ?? Math.random;
    const signal = this.#abort.signal;
    let streak = 0;
    let delay = firstDelayMs(task.intervalMs, this.#options.jitterRatio, random());
    while (!signal.aborted) {
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return;
      }
      await this.#slot();
      if (signal.aborted) {
        this.#release();
        return;
      }
      try {
        const { failed } = await task.run(signal);
        streak = failed ? streak + 1 : 0;
      } catch (err) {
        streak++;
        this.#log.error({ source: task.name, err }, 'collector round threw');
      } finally {
        this.#release();
      }
      delay = nextDelayMs({ intervalMs: task.intervalMs, jitterRatio: this.#options.jitterRatio, errorStreak: streak, maxBackoffMs: this.#options.maxBackoffMs, random: random() });
      this.#log.debug({ source: task.name, nextInMs: delay, streak }, 'next round scheduled');
    }
  }

  async #slot(): Promise<void> {
    while (this.#running >= this.#options.maxConcurrent && !this.#abort.signal.aborted) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
  }

  #release(): void {
    this.#running--;
    this.#waiting.shift()?.();
  }
}
