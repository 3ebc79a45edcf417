import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShaobingError } from '../core/errors';
import type { Store } from '../store/types';

/**
 * Clustering decisions are made one batch at a time across every pipeline process sharing the
 * store, as a single process makes them. Two processes deciding at once could each start a
 * cluster for two copies of one story, since neither can see the other's copy yet (the
 * two-process test reproduced 17 split stories). Claiming LSH bands one by one does not close
 * that race: a decision depends on all sixteen bands, and two copies can each win some of the
 * bands they share, then follow each other. So the section that looks up candidates, decides, and
 * makes the decisions searchable (store, refresh) runs under one lease in the store; analysis
 * and alerting, most of a batch's time, stay parallel.
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
}

export interface LeasedSection {
  /** Must be awaited right before the decisions are written: fails retriably (SB_STORE_CONFLICT) if the lease was lost meanwhile. */
  confirm(): Promise<void>;
  /**
   * Nobody but this process has held the lease since its previous section: every decision made
   * since then is one it made itself. False on the first section.
   */
  alone: boolean;
}

export interface ClusterLease {
  /** Runs `section` while holding the lease. */
  run<T>(section: (held: LeasedSection) => Promise<T>, heartbeat?: () => Promise<void>): Promise<T>;
}

export function createClusterLease(store: Store, options: ClusterLeaseOptions = {}): ClusterLease {
  const name = options.name ?? 'pipeline-clustering';
  const ttlMs = options.ttlMs ?? 10_000;
  const pollMs = options.pollMs ?? 20;
  const processId = randomUUID();
  let acquisitions = 0;
  let lastOwner: string | undefined;
  // Batches of several partitions in this process take turns here before asking the store.
  let queue: Promise<unknown> = Promise.resolve();

  const hold = async <T>(section: (held: LeasedSection) => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> => {
    // A new owner per acquisition: a renewal then proves that nobody held the lease in between.
    const owner = `${processId}:${++acquisitions}`;
    let beat = Date.now();
    for (;;) {
      const grant = await store.acquireLease(name, owner, ttlMs);
      if (grant) {
        const alone = lastOwner !== undefined && grant.previousOwner === lastOwner;
        lastOwner = owner;
        try {
          return await section({
            alone,
            confirm: async () => {
              if (!(await store.acquireLease(name, owner, ttlMs, { renew: true }))) {
                throw new ShaobingError('SB_STORE_CONFLICT', `the clustering lease expired after ${ttlMs} ms; the batch is clustered again`, { retriable: true });
              }
            },
          });
        } catch (err) {
          // It may have stored documents whose decisions were never remembered here.
          lastOwner = undefined;
          throw err;
        } finally {
          await store.releaseLease(name, owner).catch(() => undefined);
        }
      }
      if (heartbeat && Date.now() - beat > 2_000) {
        beat = Date.now();
        await heartbeat();
      }
      await sleep(pollMs + Math.random() * pollMs);
    }
  };

  return {
    run(section, heartbeat) {
      const result = queue.then(() => hold(section, heartbeat));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
