import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/types';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import type { Store } from '../store/types';

/** The parts of the daemon that `--role` can run apart, to scale each out over one bus and store. */
export const ROLE_NAMES = ['collector', 'pipeline', 'notifier', 'console'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RoleContext {
  config: Config;
  bus: Bus;
  store: Store;
  log: Logger;
  metrics: Registry;
  /**
   * The daemon's HTTP server, not yet listening while the factory runs: a role that serves pages registers its routes
   * (as a fastify plugin) there, then answers them once started.
   */
  http?: FastifyInstance;
}

export interface RoleHealth {
  ready: boolean;
  /** Said plainly, for /readyz and `shaobing status`: "feed 新华网 unreachable since 10:20". */
  detail?: string;
}

/** One lifecycle: start once, stop once (safe to call twice), report health meanwhile. */
export interface Role {
  readonly name: RoleName;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): RoleHealth;
}

export type RoleFactory = (context: RoleContext) => Role;
