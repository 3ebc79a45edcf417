import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per daemon, passed to every role; each module declares its own metrics
 * on it (names prefixed `shaobing_`), so tests can build a fresh registry without global state.
 */
export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'shaobing_' });
  return registry;
}
