import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger';
import type { Alert } from '../core/records';
import type { Store, Versioned } from '../store/types';

/**
 * Live alert updates for the console (`GET /api/alerts/stream`, Server-Sent Events). One poller per
 * process serves every subscriber, and runs only while someone listens: every `intervalMs` it reads
 * the alerts still in play (open and acknowledged, most recent first, up to `watchLimit`) and sends
 * each one whose version moved since the last look, plus the ones that left that set (closed
 * elsewhere). Polling versions rather than `updated_at` also catches what the pipeline folds in
 * without touching updated_at (a growing document count) and works the same on both stores.
 * Changes made through this console are sent at once by `publish`, without waiting for a poll.
 */

export type AlertItem = Omit<Alert, 'outbox' | 'tokens'> & { version: string };

/** An alert as the API shows it: without the notifier's outbox and the search tokens. */
export function alertItem(versioned: Versioned<Alert>): AlertItem {
  const { outbox: _outbox, tokens: _tokens, ...alert } = versioned.value;
  return { ...alert, version: versioned.version };
}

export interface AlertFeedOptions {
  store: Store;
  log: Logger;
  /** Default 2000. */
  intervalMs?: number;
  /** A comment line keeps proxies from closing an idle stream; default 15000. */
  heartbeatMs?: number;
  /** Alerts in play watched at most; default 1000. */
  watchLimit?: number;
}

export class AlertFeed {
  readonly #o: Required<AlertFeedOptions>;
  readonly #subscribers = new Set<ServerResponse>();
  /** id → version last sent or seen; undefined until the first poll after someone subscribed. */
  #known: Map<string, string> | undefined;
  #poll: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  constructor(options: AlertFeedOptions) {
    this.#o = { intervalMs: 2000, heartbeatMs: 15_000, watchLimit: 1000, ...options };
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Takes over the response and keeps it open until the client leaves or the feed stops. */
  subscribe(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const raw = reply.raw;
    if (this.#stopped) {
      raw.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('stopping');
      return;
    }
    // Hijacked: the security headers and a refreshed session cookie set by the hooks go out by hand.
    raw.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    raw.write(': connected\n\n');
    this.#subscribers.add(raw);
    request.raw.once('close', () => this.#leave(raw));
    if (this.#subscribers.size === 1) this.#startTimers();
  }

  /** Sends one alert to every subscriber now (a change made through this console). */
  publish(versioned: Versioned<Alert>): void {
    this.#known?.set(versioned.value.id, versioned.version);
    this.#send(versioned);
  }

  /** Ends every stream and stops polling; safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopTimers();
    for (const raw of this.#subscribers) raw.end();
    this.#subscribers.clear();
    await this.#polling;
  }

  #send(versioned: Versioned<Alert>): void {
    if (this.#subscribers.size === 0) return;
    const frame = `event: alert\ndata: ${JSON.stringify(alertItem(versioned))}\n\n`;
    for (const raw of this.#subscribers) raw.write(frame);
  }

  #leave(raw: ServerResponse): void {
    this.#subscribers.delete(raw);
    if (this.#subscribers.size === 0) this.#stopTimers();
  }

  #startTimers(): void {
    this.#known = undefined;
    const loop = () => {
      this.#polling = this.#tick()
        .catch((err: unknown) => this.#o.log.warn({ err }, 'alert feed poll failed; trying again'))
        .finally(() => {
          this.#polling = undefined;
          if (this.#subscribers.size > 0 && !this.#stopped) this.#poll = setTimeout(loop, this.#o.intervalMs);
        });
    };
    loop();
    this.#heartbeat = setInterval(() => {
      for (const raw of this.#subscribers) raw.write(': heartbeat\n\n');
    }, this.#o.heartbeatMs);
  }

  #stopTimers(): void {
    clearTimeout(this.#poll);
    clearInterval(this.#heartbeat);
    this.#poll = undefined;
    this.#heartbeat = undefined;
    this.#known = undefined;
  }

  async #tick(): Promise<void> {
    const { items } = await this.#o.store.searchAlerts({ status: ['open', 'acknowledged'], order: 'recent', size: this.#o.watchLimit });
    const known = this.#known;
    const now = new Map(items.map((v) => [v.value.id, v.version]));
    if (known) {
      for (const v of items) if (known.get(v.value.id) !== v.version) this.#send(v);
      for (const [id, version] of known) {
        if (now.has(id)) continue;
        const gone = await this.#o.store.getAlert(id);
        if (gone && gone.version !== version) this.#send(gone);
      }
    }
    if (this.#subscribers.size > 0) this.#known = now;
  }
}
