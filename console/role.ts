import { stopOnce } from '../core/lifecycle';
import type { Role, RoleContext, RoleFactory, RoleHealth } from '../daemon/roles';
import { RuleSet } from '../rules/rule-set';
import { AlertFeed } from './alert-feed';
import { createAudit, importQueuedAudit } from './audit';
import { ConsoleAuth } from './auth';
import { createBriefingScheduler } from './briefings/scheduler';
import type { ConsoleServices } from './context';
import { consolePaths } from './paths';
import { type ConsoleRoute, consolePlugin } from './plugin';

export interface ConsoleRoleOptions {
  /** Default: the wall clock (tests pass their own). */
  now?: () => Date;
  /** How often the live feed polls the store, and CLI audit entries are imported; default 2000 ms. */
  pollMs?: number;
}

export interface ConsoleRoleHandle extends Role {
  /** What the API routes are given (tests use it to reach the store, the rules, the audit log). */
  readonly services: ConsoleServices | undefined;
  /** Every /api route with its roles, once the server is ready. */
  readonly routes: readonly ConsoleRoute[];
}

/**
 * The `console` role: the web console and its API on the daemon's HTTP server. The routes are
 * registered when the role is built (the server is not listening yet) and answer 503
 * SB_CONSOLE_STARTING until start() has loaded the topics (its own RuleSet over `rules.paths`,
 * watched like the pipeline's) and imported audit entries that CLI commands queued meanwhile.
 */
export function createConsoleRole(context: RoleContext, options: ConsoleRoleOptions = {}): ConsoleRoleHandle {
  const { config, store, log } = context;
  const routes: ConsoleRoute[] = [];
  if (!config.console.enabled || !context.http) {
    const why = config.console.enabled ? 'no HTTP server to serve the console on' : 'disabled (console.enabled: false)';
    return {
      name: 'console',
      services: undefined,
      routes,
      start: async () => log.info(`console ${why}`),
      stop: async () => undefined,
      health: () => ({ ready: true, detail: why }),
    };
  }
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 2000;
  const paths = consolePaths(config);
  const rules = new RuleSet({ paths: config.rules.paths, logger: log.child({ component: 'console-rules' }) });
  const services: ConsoleServices = { config, paths, store, log, rules, audit: createAudit(store, now), now };
  const auth = new ConsoleAuth({ config, paths, log });
  const feed = new AlertFeed({ store, log, intervalMs: pollMs });
  const briefings = createBriefingScheduler(services);
  let started = false;
  let stopped = false;
  let importing: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const importAudit = () => {
    importing ??= importQueuedAudit(store, paths, log)
      .catch((err: unknown) => log.warn({ err }, 'importing queued audit entries failed; will retry'))
      .finally(() => (importing = undefined));
    return importing;
  };

  void context.http.register(consolePlugin, { services, auth, feed, ready: () => started && !stopped, routes });

  return {
    name: 'console',
    services,
    routes,

    async start() {
      const loaded = rules.reload();
      if (!loaded.ok) log.warn({ issues: loaded.issues.length }, 'console: topic files have errors; the rules page lists them');
      if (config.rules.watch) rules.watch();
      await importAudit();
      timer = setInterval(importAudit, pollMs);
      timer.unref();
      started = true;
      log.info({ users: auth.users.list().length, users_file: paths.usersFile }, 'console started');
      if (auth.users.list().length === 0) log.warn('console has no users yet: add one with `shaobing user add <name> --role admin`');
      await briefings.start();
    },

    health(): RoleHealth {
      if (!started) return { ready: false, detail: 'starting' };
      return rules.current ? { ready: true } : { ready: true, detail: 'no topic rules loaded' };
    },

    stop: stopOnce(async () => {
      stopped = true;
      clearInterval(timer);
      rules.close();
      await briefings.stop();
      await feed.stop();
      await importing;
    }),
  };
}

export const consoleRoleFactory: RoleFactory = (context) => createConsoleRole(context);
