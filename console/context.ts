import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import type { AuditEntry } from '../core/records';
import type { RuleSet } from '../rules/rule-set';
import type { Store } from '../store/types';

/**
 * What every part of the console's API is given, and how a route says who may call it. Each API
 * area (alerts, rules, overview, briefings…) is one fastify plugin of type `ConsoleApi`, mounted
 * under `/api` by console/plugin.ts after sign-in and CSRF checks are in place.
 */

export const CONSOLE_ROLES = ['admin', 'analyst', 'duty'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** The signed-in user, as routes see it. */
export interface ConsoleUser {
  name: string;
  role: ConsoleRole;
  display_name?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every /api route except those marked `public`; absent only on public routes. */
    user?: ConsoleUser;
  }
  interface FastifyContextConfig {
    /**
     * Roles allowed to call the route; absent means every signed-in user. A signed-in user of
     * another role gets 403 SB_CONSOLE_FORBIDDEN; no session gets 401 SB_CONSOLE_UNAUTHENTICATED.
     */
    roles?: readonly ConsoleRole[];
    /** Callable without a session (sign-in, the login page's settings). */
    public?: boolean;
  }
}

/** Paths the console keeps its own state in, resolved from `console:` and `data_dir`. */
export interface ConsolePaths {
  /** `<data_dir>/console`: the session key and CLI audit entries waiting for the store. */
  stateDir: string;
  usersFile: string;
  rulesHistoryDir: string;
  briefingsDir: string;
}

export interface ConsoleServices {
  config: Config;
  paths: ConsolePaths;
  store: Store;
  log: Logger;
  /** The running topics, the same files the pipeline reads; the console's saves reload it. */
  rules: RuleSet;
  /**
   * Records one state change (who, what, when, before/after). Every route that changes state calls
   * it after the change succeeded; the entry's `id` and `at` are filled in here.
   */
  audit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void>;
  now(): Date;
}

export type ConsoleApi = FastifyPluginAsync<ConsoleServices>;
