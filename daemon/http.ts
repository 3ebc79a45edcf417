import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger';

export interface HealthReport {
  ready: boolean;
  checks: Record<string, { ready: boolean; detail?: string }>;
}

export interface HttpServerOptions {
  /** Proxies whose X-Forwarded-For is believed (fastify's trustProxy). */
  trustProxy?: string[];
  metrics: Registry;
  /** Evaluated per /readyz request. */
  readiness: () => Promise<HealthReport>;
  log: Logger;
}

/**
 * The daemon's HTTP face: liveness, readiness and Prometheus metrics. Roles add their routes (the
 * console's API and pages) to the returned server before it listens.
 */
export function createHttpServer(options: Omit<HttpServerOptions, 'host' | 'port'>): FastifyInstance {
  // Request lines are info-level; probes every few seconds would drown the log, so only warnings pass.
  const server: FastifyInstance = Fastify({
    ...(options.trustProxy?.length ? { trustProxy: options.trustProxy } : {}),
    loggerInstance: options.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
  });
  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const report = await options.readiness();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  server.get('/metrics', async (_request, reply) => {
    return reply.type(options.metrics.contentType).send(await options.metrics.metrics());
  });
  return server;
}
