import type { FastifyInstance } from 'fastify';
import { createBus } from '../bus';
import type { Bus } from '../bus/types';
import type { Config } from '../core/config';
import { openEmbeddedDatabase } from '../core/embedded-db';
import { stopOnce } from '../core/lifecycle';
import type { Logger } from '../core/logger';
import { createMetricsRegistry } from '../core/metrics';
import { withRetry } from '../core/retry';
import { createStore } from '../store';
import type { Store } from '../store/types';
import { createHttpServer, type HealthReport } from './http';
import type { Role, RoleFactory, RoleName } from './roles';

export interface DaemonOptions {
  config: Config;
  log: Logger;
  /** Which roles to run; default every role a factory is given for. */
  roles?: RoleName[];
  factories: Partial<Record<RoleName, RoleFactory>>;
  /** stop() gives the roles this long to finish in-flight work; default 10000. */
  stopTimeoutMs?: number;
}

export interface Daemon {
  /** Resolves once the backends answer and every role has started; /healthz answers before that. */
  start(): Promise<void>;
  /** Finishes in-flight work, commits, closes; safe to call twice. */
  stop(): Promise<void>;
  readonly url: string | undefined;
  readonly bus: Bus;
  readonly store: Store;
}

/**
 * Wires one process: backends from config, the HTTP server, and the roles asked for. Backends that
 * do not answer yet (Kafka still booting, the search engine restarting) are retried with backoff
 * while /readyz says what is missing, instead of failing the start.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { config, log } = options;
  const openDatabase = () => openEmbeddedDatabase(config.data_dir);
  const bus = createBus(config, { log: log.child({ component: 'bus' }), openDatabase });
  const store = createStore(config, { log: log.child({ component: 'store' }), openDatabase });
  const metrics = createMetricsRegistry();
  const wanted = options.roles ?? (Object.keys(options.factories) as RoleName[]);
  const roles: Role[] = [];
  const backends = { bus: false, store: false };
  const abort = new AbortController();
  let url: string | undefined;
  const server: FastifyInstance = createHttpServer({ metrics, readiness: () => readiness(), log, trustProxy: config.http.trust_proxy });

  const readiness = async (): Promise<HealthReport> => {
    const checks: HealthReport['checks'] = {
      bus: { ready: backends.bus, ...(backends.bus ? {} : { detail: `${bus.kind} bus not reachable yet` }) },
      store: { ready: backends.store, ...(backends.store ? {} : { detail: `${store.kind} store not reachable yet` }) },
    };
    for (const role of roles) checks[role.name] = role.health();
    return { ready: Object.values(checks).every((c) => c.ready), checks };
  };

  const connect = (name: keyof typeof backends, fn: () => Promise<void>) =>
    withRetry(fn, {
      signal: abort.signal,
      maxDelayMs: 15_000,
      onRetry: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs }, `${name} not reachable; retrying`),
    }).then(() => {
      backends[name] = true;
    });

  return {
    get url() {
      return url;
    },
    bus,
    store,

    async start() {
      for (const name of wanted) {
        if (!options.factories[name]) throw new Error(`role "${name}" is not available`);
      }
      // Built before listening, so a role's routes (the console) are on the server from the first request.
      const built = wanted.map((name) => options.factories[name]!({ config, bus, store, metrics, http: server, log: log.child({ role: name }) }));
      url = await server.listen({ host: config.http.host, port: config.http.port });
      log.info({ url, bus: bus.kind, store: store.kind, roles: wanted }, 'shaobing daemon listening');
      await Promise.all([connect('bus', () => bus.start()), connect('store', () => store.init())]);
      for (const role of built) {
        await role.start();
        roles.push(role);
      }
      log.info('shaobing daemon started');
    },

    stop: stopOnce(async () => {
      abort.abort();
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, options.stopTimeoutMs ?? 10_000, 'timeout').unref());
      const stopped = Promise.allSettled([...roles].reverse().map((r) => r.stop()));
      if ((await Promise.race([stopped, deadline])) === 'timeout') log.error('roles did not stop in time; closing anyway');
      await Promise.allSettled([bus.stop(), store.close(), server.close()]);
      log.info('shaobing daemon stopped');
    }),
  };
}
