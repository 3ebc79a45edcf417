import { EventEmitter, once } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import type { TopicsConfig } from '../core/config';
import type { EmbeddedDatabase } from '../core/embedded-db';
import { ShaobingError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { withRetry } from '../core/retry';
import { stopOnce } from '../core/lifecycle';
import { runBatchHandler, topicSpec } from './shared';
import {
  DEFAULT_MAX_BATCH_SIZE,
  encodeValue,
  type Bus,
  type BusMessage,
  type OutgoingMessage,
  type PartitionLag,
  type SubscribeOptions,
  type Subscription,
  type TopicRole,
} from './types';

export interface EmbeddedBusOptions {
  topics: TopicsConfig;
  /** Opened lazily by start(); the bus releases it on stop(). */
  openDatabase: () => Promise<EmbeddedDatabase>;
  /** Messages older than this are deleted, as Kafka's retention.ms would; default 168 (a week). */
  retentionHours?: number;
  /** How long an idle member waits for a new message before looking again; default 1000. */
  idlePollMs?: number;
  log?: Logger;
}

/**
 * A durable log in the embedded database with Kafka's semantics for one process: keyed partitions,
 * per-group committed offsets, partitions shared among a group's members, redelivery of whatever
 * was not committed when the process died.
 */
export function createEmbeddedBus(options: EmbeddedBusOptions): Bus {
  const log = options.log ?? silentLogger;
  const idlePollMs = options.idlePollMs ?? 1000;
  const retentionMs = (options.retentionHours ?? 168) * 3_600_000;
  const arrivals = new EventEmitter().setMaxListeners(0);
  const nextOffset = new Map<string, number>();
  const groups = new Map<string, Group>();
  const subscriptions = new Set<Subscription>();
  let database: EmbeddedDatabase | undefined;
  let started: Promise<void> | undefined;
  let stopped = false;
  let writes: Promise<unknown> = Promise.resolve();
  let pruneTimer: NodeJS.Timeout | undefined;

  /** The database once start() has opened it; start() is awaited by every public method first. */
  const db = Object.assign(
    (): PGlite => {
      db.live();
      return database!.db;
    },
    {
      live() {
        if (stopped) throw new ShaobingError('SB_BUS_STOPPED', 'the embedded bus has been stopped');
      },
    },
  );
  const slot = (name: string, partition: number) => `${name}\u0000${partition}`;

  /** One writer at a time, so offsets are handed out in commit order. */
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = writes.then(fn, fn);
    writes = run.catch(() => undefined);
    return run;
  };

  const prune = async () => {
    const cutoff = new Date(Date.now() - retentionMs);
    await serialized(() => db().query('DELETE FROM bus_log WHERE ts < $1', [cutoff])).catch((err: unknown) =>
      log.warn({ err }, 'embedded bus: pruning old messages failed'),
    );
  };

  const bus: Bus = {
    kind: 'embedded',

    start() {
      db.live();
      started ??= (async () => {
        database = await options.openDatabase();
        await database.db.exec(`
          CREATE TABLE IF NOT EXISTS bus_log (
            topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL,
            key text NOT NULL, value bytea NOT NULL, headers jsonb NOT NULL, ts timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (topic, partition, "offset"));
          CREATE INDEX IF NOT EXISTS bus_log_ts ON bus_log (ts);
          CREATE TABLE IF NOT EXISTS bus_offsets (
            grp text NOT NULL, topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL,
            PRIMARY KEY (grp, topic, partition));`);
        const { rows } = await database.db.query<{ topic: string; partition: number; next: number }>(
          'SELECT topic, partition, max("offset") + 1 AS next FROM bus_log GROUP BY topic, partition',
        );
        for (const row of rows) nextOffset.set(slot(row.topic, row.partition), row.next);
        await prune();
        pruneTimer = setInterval(() => void prune(), 600_000).unref();
      })();
      return started;
    },

    async publish(topic, messages) {
      if (messages.length === 0) return;
      const spec = topicSpec(options.topics, topic);
      db.live();
      await bus.start();
      const rows = messages.map((m: OutgoingMessage) => ({
        partition: partitionFor(m.key, spec.partitions),
        key: m.key,
        value: encodeValue(m.value),
        headers: m.headers ?? {},
      }));
      await serialized(async () => {
        const assigned = new Map<string, number>();
        const take = (partition: number) => {
          const k = slot(spec.name, partition);
          const offset = assigned.get(k) ?? nextOffset.get(k) ?? 0;
          assigned.set(k, offset + 1);
          return offset;
        };
        const offsets = rows.map((r) => take(r.partition));
        // Values cross PGlite's wire as base64 text: its JavaScript bytea codec escapes byte by byte
        // (a 10 MB message took 3 s each way; as base64, 0.2 s).
        await db().query(
          `INSERT INTO bus_log (topic, partition, "offset", key, value, headers)
           SELECT $1, p, o, k, decode(v, 'base64'), h FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[]) AS m(p, o, k, v, h)`,
          [
            spec.name,
            rows.map((r) => r.partition),
            offsets,
            rows.map((r) => r.key),
            rows.map((r) => r.value.toString('base64')),
            rows.map((r) => JSON.stringify(r.headers)),
          ],
        );
        for (const [k, v] of assigned) nextOffset.set(k, v);
      });
      arrivals.emit(spec.name);
    },

    async subscribe(subscribeOptions) {
      await bus.start();
      const spec = topicSpec(options.topics, subscribeOptions.topic);
      const groupKey = `${subscribeOptions.group}\u0000${spec.name}`;
      let group = groups.get(groupKey);
      if (!group) {
        const committed = await committedOffsets(db(), subscribeOptions.group, spec.name);
        group = groups.get(groupKey) ?? new Group(spec.partitions, committed);
        groups.set(groupKey, group);
      }
      const subscription = runMember(group, spec.name, subscribeOptions);
      subscriptions.add(subscription);
      void subscription.done.catch(() => undefined).finally(() => subscriptions.delete(subscription));
      return subscription;
    },

    async lag(groupName, topic) {
      await bus.start();
      const spec = topicSpec(options.topics, topic);
      const committed = await committedOffsets(db(), groupName, spec.name);
      return Array.from({ length: spec.partitions }, (_, partition): PartitionLag => ({
        topic,
        partition,
        lag: (nextOffset.get(slot(spec.name, partition)) ?? 0) - (committed.get(partition) ?? 0),
      }));
    },

    stop: stopOnce(async () => {
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      clearInterval(pruneTimer);
      await writes;
      stopped = true;
      arrivals.emit('stop');
      await database?.release();
    }),
  };

  function runMember(group: Group, topicName: string, opts: SubscribeOptions): Subscription {
    const member = group.join();
    const abort = new AbortController();
    const maxBatchSize = opts.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;

    const loop = async () => {
      const { committed } = group;
      while (!abort.signal.aborted) {
        let worked = false;
        for (const partition of group.assignment(member)) {
          if (abort.signal.aborted || !group.claim(partition)) continue;
          try {
            const from = committed.get(partition) ?? 0;
            const batch = await readBatch(topicName, opts.topic, partition, from, maxBatchSize);
            if (batch.length === 0) continue;
            worked = true;
            await runBatchHandler(opts, batch, { heartbeat: async () => undefined }, abort.signal);
            const next = Number(batch[batch.length - 1]!.offset) + 1;
            await withRetry(
              () =>
                db().query(
                  `INSERT INTO bus_offsets (grp, topic, partition, "offset") VALUES ($1, $2, $3, $4)
                   ON CONFLICT (grp, topic, partition) DO UPDATE SET "offset" = excluded."offset"`,
                  [opts.group, topicName, partition, next],
                ),
              { maxAttempts: 5, signal: abort.signal },
            );
            committed.set(partition, next);
          } finally {
            group.unclaim(partition);
          }
        }
        if (!worked && !abort.signal.aborted) {
          await once(arrivals, topicName, { signal: AbortSignal.any([abort.signal, AbortSignal.timeout(idlePollMs)]) }).catch(
            () => undefined,
          );
        }
      }
    };

    const done = loop()
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        throw err;
      })
      .finally(() => group.leave(member));
    return {
      done,
      stop: stopOnce(async () => {
        abort.abort(new ShaobingError('SB_BUS_STOPPED', 'subscription stopped'));
        await done.catch(() => undefined);
      }),
    };
  }

  async function readBatch(name: string, topic: TopicRole, partition: number, from: number, limit: number): Promise<BusMessage[]> {
    const { rows } = await db().query<{ offset: number; key: string; value: string; headers: Record<string, string>; ts: Date }>(
      `SELECT "offset", key, encode(value, 'base64') AS value, headers, ts FROM bus_log
       WHERE topic = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT $4`,
      [name, partition, from, limit],
    );
    return rows.map((r) => ({
      topic,
      partition,
      offset: String(r.offset),
      key: r.key,
      value: Buffer.from(r.value, 'base64'),
      headers: r.headers,
      timestamp: r.ts.toISOString(),
    }));
  }

  return bus;
}

async function committedOffsets(db: PGlite, group: string, topic: string): Promise<Map<number, number>> {
  const { rows } = await db.query<{ partition: number; offset: number }>(
    'SELECT partition, "offset" FROM bus_offsets WHERE grp = $1 AND topic = $2',
    [group, topic],
  );
  return new Map(rows.map((r) => [r.partition, r.offset]));
}

/** FNV-1a: stable across processes and versions, which is all keyed partitioning needs. */
export function partitionFor(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** The members of one consumer group in this process, and which partitions each one reads. */
class Group {
  private members: number[] = [];
  private nextMember = 0;
  private readonly busy = new Set<number>();

  /** Shared by the members, so a partition that changes hands resumes where the last owner committed. */
  constructor(
    private readonly partitions: number,
    readonly committed: Map<number, number>,
  ) {}

  join(): number {
    const id = this.nextMember++;
    this.members.push(id);
    return id;
  }

  leave(member: number): void {
    this.members = this.members.filter((m) => m !== member);
  }

  assignment(member: number): number[] {
    const index = this.members.indexOf(member);
    if (index < 0) return [];
    const out: number[] = [];
    for (let p = index; p < this.partitions; p += this.members.length) out.push(p);
    return out;
  }

  /** A partition changing hands waits until its previous owner has finished the batch in hand. */
  claim(partition: number): boolean {
    if (this.busy.has(partition)) return false;
    this.busy.add(partition);
    return true;
  }

  unclaim(partition: number): void {
    this.busy.delete(partition);
  }
}
