import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus } from '../../bus';
import type { Bus } from '../../bus/types';
import { defaultConfig, type Config } from '../../core/config';
import { openEmbeddedDatabase } from '../../core/embedded-db';
import { createStore } from '../../store';
import type { Store } from '../../store/types';

/**
 * Every contract suite runs against each backend: the embedded ones always, Kafka and the search
 * engine through what the global setup started. With SHAOBING_TEST_SERVICES=none the real ones are
 * skipped on purpose (quick local runs); anywhere else a missing service fails the suite loudly.
 */
export type BackendKind = 'embedded' | 'real';

export const servicesSkipped = process.env.SHAOBING_TEST_SERVICES === 'none';

export const backendKinds: BackendKind[] = servicesSkipped ? ['embedded'] : ['embedded', 'real'];

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the jest global setup should have started the test services`);
  return value;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A config for one test: its own data dir, its own topic names and index prefix. */
export function testConfig(kind: BackendKind, overrides: { partitions?: number } = {}): Config {
  const name = uniqueName('t');
  const partitions = overrides.partitions ?? 3;
  return defaultConfig({
    data_dir: mkdtempSync(join(tmpdir(), 'shaobing-test-')),
    bus: {
      ...(kind === 'real' ? { kafka: { brokers: requireEnv('SHAOBING_TEST_KAFKA_BROKERS').split(',') } } : {}),
      topics: {
        documents: { name: `${name}.documents`, partitions },
        alert_events: { name: `${name}.alert-events`, partitions: 1 },
        dead_letters: { name: `${name}.dead-letters`, partitions: 1 },
        operator_notices: { name: `${name}.operator-notices`, partitions: 1 },
      },
    },
    store: kind === 'real' ? { elasticsearch: { node: requireEnv('SHAOBING_TEST_ES_URL'), index_prefix: name.toLowerCase() } } : {},
  });
}

export function openDatabaseFor(config: Config) {
  return () => openEmbeddedDatabase(config.data_dir);
}

export function busFor(config: Config): Bus {
  return createBus(config, { openDatabase: openDatabaseFor(config) });
}

export function storeFor(config: Config): Store {
  return createStore(config, { openDatabase: openDatabaseFor(config) });
}

export function removeDataDir(config: Config): void {
  rmSync(config.data_dir, { recursive: true, force: true });
}

/** Polls until `check` holds or the time is up; returns the last value for the assertion. */
export async function eventually<T>(probe: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
