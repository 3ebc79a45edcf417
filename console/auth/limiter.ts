/**
 * Failed sign-ins counted per key (a user name, an address) in a fixed window that starts at the
 * first failure. At `max` failures the key is refused until the window ends, whether the next
 * password is right or not: that is what stops guessing. @fastify/rate-limit counts every
 * request rather than failures and keys each limit one way, so this small counter is kept instead.
 */
export class FailureLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #entries = new Map<string, { count: number; resetAt: number }>();

  constructor(options: { max: number; windowMs: number }) {
    this.#max = options.max;
    this.#windowMs = options.windowMs;
  }

  /** Seconds until the first of `keys` that is refused may try again, or 0 if none is. */
  retryAfterSeconds(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const entry = this.#live(key, now);
      if (entry && entry.count >= this.#max) wait = Math.max(wait, Math.ceil((entry.resetAt - now) / 1000));
    }
    return wait;
  }

  fail(keys: readonly string[], now: number): void {
    if (this.#entries.size > 10_000) this.#prune(now);
    for (const key of keys) {
      const entry = this.#live(key, now);
      if (entry) entry.count++;
      else this.#entries.set(key, { count: 1, resetAt: now + this.#windowMs });
    }
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  #live(key: string, now: number) {
    const entry = this.#entries.get(key);
    if (entry && entry.resetAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.resetAt <= now) this.#entries.delete(key);
  }
}
