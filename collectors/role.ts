import { stopOnce } from '../core/lifecycle';
import { withRetry } from '../core/retry';
import type { Role, RoleContext, RoleFactory, RoleHealth } from '../daemon/roles';
import { Collection } from './collection';
import type { NoticeSink } from './health';
import type { DocumentSink } from './types';

export interface CollectorRoleOptions {
  /** Where operator notices go besides the log and the bus's `operator_notices` topic. */
  notify?: NoticeSink;
}

/**
 * The `collector` role: every enabled source on its schedule, documents published to the bus's
 * `documents` topic keyed by document id, operator notices (a source failing, blocked, recovered) to
 * `operator_notices` keyed by source, where the notifier takes them, in this process or another.
 * Health: ready once started (sources failing outside do not make the daemon unready); the detail
 * names each failing or blocked source plainly.
 */
export function createCollectorRole(context: RoleContext, options: CollectorRoleOptions = {}): Role {
  const { config, bus, log, metrics } = context;
  const abort = new AbortController();
  let collection: Collection | undefined;

  const sink: DocumentSink = (documents) =>
    withRetry(() => bus.publish('documents', documents.map((d) => ({ key: d.id, value: d }))), {
      maxAttempts: 5,
      maxDelayMs: 5_000,
      signal: abort.signal,
      onRetry: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs }, 'publishing documents failed; retrying'),
    });

  const notices: NoticeSink = async (notice) => {
    await withRetry(() => bus.publish('operator_notices', [{ key: notice.source, value: notice }]), {
      maxAttempts: 5,
      maxDelayMs: 5_000,
      signal: abort.signal,
      onRetry: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs }, 'publishing an operator notice failed; retrying'),
    });
    await options.notify?.(notice);
  };

  return {
    name: 'collector',
    async start() {
      collection = new Collection({ config, log, sink, metrics, notify: notices });
      collection.start();
      log.info({ sources: collection.runners.map((r) => r.name) }, collection.runners.length ? 'collectors started' : 'no sources configured; the collector idles');
    },
    stop: stopOnce(async () => {
      abort.abort(new Error('collector stopping'));
      await collection?.stop();
    }),
    health(): RoleHealth {
      if (!collection) return { ready: false, detail: 'collector not started' };
      return collection.health.summary();
    },
  };
}

export const collectorRoleFactory: RoleFactory = (context) => createCollectorRole(context);
