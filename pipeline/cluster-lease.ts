import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShaobingError } from '../core/errors';
import { LEASE_JOURNAL_SIZE, type Store } from '../store/types';

/**
 * Clustering decisions are made one batch at a time across every pipeline process sharing the
 * store, as a single process makes them. Two processes deciding at once could each start a
 * cluster for two copies of one story, since neither can see the other's copy yet (the
 * two-process test reproduced 17 split stories). Claiming LSH bands one by one does not close
 * that race: a decision depends on all sixteen bands, and two copies can each win some of the
 * bands they share, then follow each other. So the section that decides and stores runs under
 * one lease in the store; analysis and alerting, most of a batch's time, stay parallel.
 *
 * A process keeps the lease across its consecutive sections (one conditional write each) until
 * it has none queued or someone else asks for it. Each section's decisions go into the lease's
 * journal, so the next holder learns what it missed from a few real-time reads instead of
 * searching the store document by document.
 */

export interface ClusterLeaseOptions {
  /** Lease name in the store; one per documents topic and index prefix. Default `pipeline-clustering`. */
  name?: string;
  /**
   * How long a holder that died keeps others waiting; default 10000. A section taking longer
   * loses the lease and its batch is retried (its decisions were not stored).
   */
  ttlMs?: number;
  /** Pause between attempts to take a held lease; default 20 (plus jitter). */
  pollMs?: number;
  /**
   * Journal entries are written while another process held or asked for the lease this recently;
   * default 60000. A process alone skips them; one that finds entries missing reads the store.
   */
  othersMs?: number;
}

export interface LeasedSection {
  /**
   * What the other holders decided since this process's previous section, oldest first: their
   * journal entries. Undefined when this process cannot know (its first section, entries gone,
   * an earlier section failed): then it must learn from the store.
   */
  missed: unknown[] | undefined;
  /** Must be awaited right before the decisions are written: fails retriably (SB_STORE_CONFLICT) if the lease was lost meanwhile. */
  confirm(): Promise<void>;
  /** Once the decisions are stored: what later holders read as this section's journal entry. */
  publish(entry: () => unknown): void;
}

export interface ClusterLease {
  /** Runs `section` while holding the lease. */
  run<T>(section: (held: LeasedSection) => Promise<T>, heartbeat?: () => Promise<void>): Promise<T>;
}

export function createClusterLease(store: Store, options: ClusterLeaseOptions = {}): ClusterLease {
  const name = options.name ?? 'pipeline-clustering';
  const ttlMs = options.ttlMs ?? 10_000;
  const pollMs = options.pollMs ?? 20;
  const othersMs = options.othersMs ?? 60_000;
  const processId = randomUUID();
  let acquisitions = 0;
  /** Held across sections: the owner name of this hold and the journal position it stands at. */
  let held: { owner: string; position: number; handOver: boolean } | undefined;
  /** Journal position up to which every decision is in this process's memory. */
  let known: number | undefined;
  /** When another process last held or asked for the lease, as far as this one saw. */
  let othersSeen = -Infinity;
  /** Journal entries being written; awaited before the lease passes on. */
  let writing: Array<Promise<void>> = [];
  // Batches of several partitions in this process take turns here before asking the store.
  let queue: Promise<unknown> = Promise.resolve();
  let queued = 0;

  const acquire = async (heartbeat?: () => Promise<void>) => {
    // A new owner per hold: a renewal then proves that nobody held the lease in between.
    const owner = `${processId}:${++acquisitions}`;
    let beat = Date.now();
    for (;;) {
      const grant = await store.acquireLease(name, owner, ttlMs);
      if (grant) {
        if ((grant.previousOwner && !grant.previousOwner.startsWith(`${processId}:`)) || grant.contended) othersSeen = Date.now();
        return { owner, position: grant.position, handOver: grant.contended };
      }
      othersSeen = Date.now();
      if (heartbeat && Date.now() - beat > 2_000) {
        beat = Date.now();
        await heartbeat();
      }
      await sleep(pollMs + Math.random() * pollMs);
    }
  };

  const release = async () => {
    const hold = held;
    held = undefined;
    if (!hold) return;
    // A failed write leaves a gap, which makes readers consult the store: nothing is lost.
    await Promise.allSettled(writing);
    writing = [];
    await store.releaseLease(name, hold.owner).catch(() => undefined);
  };

  /** The journal entries after `known` up to `position`, or undefined if any is missing. */
  const catchUp = async (position: number): Promise<unknown[] | undefined> => {
    if (known === undefined || position < known || position - known > LEASE_JOURNAL_SIZE) return undefined;
    const wanted = Array.from({ length: position - known }, (_, i) => known! + 1 + i);
    const entries = await store.getLeaseEntries(name, wanted);
    return wanted.every((p) => entries.has(p)) ? wanted.map((p) => entries.get(p)) : undefined;
  };

  const hold = async <T>(section: (held: LeasedSection) => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> => {
    held ??= await acquire(heartbeat);
    const current = held;
    try {
      const missed = await catchUp(current.position);
      let confirmed: number | undefined;
      const result = await section({
        missed,
        confirm: async () => {
          const grant = await store.acquireLease(name, current.owner, ttlMs, { renew: true, advance: true });
          if (!grant) throw new ShaobingError('SB_STORE_CONFLICT', `the clustering lease expired after ${ttlMs} ms; the batch is clustered again`, { retriable: true });
          if (grant.contended) {
            current.handOver = true;
            othersSeen = Date.now();
          }
          confirmed = current.position = grant.position;
        },
        publish: (entry) => {
          if (confirmed === undefined || Date.now() - othersSeen > othersMs) return;
          writing.push(store.putLeaseEntry(name, confirmed, entry()));
        },
      });
      known = current.position;
      if (current.handOver || queued === 0) await release();
      return result;
    } catch (err) {
      // It may have stored documents whose decisions were never remembered here.
      known = undefined;
      await release();
      throw err;
    }
  };

  return {
    run(section, heartbeat) {
      queued++;
      const result = queue.then(() => {
        queued--;
        return hold(section, heartbeat);
      });
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
