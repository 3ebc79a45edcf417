import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { Collection } from '../../collectors/collection';
import type { SourceSchema } from '../../collectors/config';
import { defaultConfig, type Config } from '../../core/config';
import { createLogger, silentLogger, type Logger } from '../../core/logger';
import type { Document, OperatorNotice } from '../../core/records';
import { startFixtureServer, type FixtureServer } from '../fixtures/collectors/server';

/** Fetch settings for tests: no pacing, short retries and timeouts. */
export const FAST_HTTP = {
  per_host_min_interval_ms: 0,
  per_host_concurrency: 4,
  retry_initial_delay_ms: 10,
  retry_max_delay_ms: 50,
  timeout_ms: 3_000,
};

export function collectorConfig(sources: Array<z.input<typeof SourceSchema>>, collectors: Record<string, unknown> = {}, dataDir?: string): Config {
  return defaultConfig({
    data_dir: dataDir ?? mkdtempSync(join(tmpdir(), 'shaobing-collect-')),
    sources,
    collectors: { alert_after_failures: 2, ...collectors, http: { ...FAST_HTTP, ...((collectors.http as object) ?? {}) } },
  } as Parameters<typeof defaultConfig>[0]);
}

export interface Harness {
  collection: Collection;
  documents: Document[];
  notices: OperatorNotice[];
  metrics: Registry;
}

export const testLog: Logger = process.env.SHAOBING_TEST_LOG ? createLogger({ level: process.env.SHAOBING_TEST_LOG }) : silentLogger;

export function harness(config: Config, options: { now?: Date; persistState?: boolean; only?: string[] } = {}): Harness {
  const documents: Document[] = [];
  const notices: OperatorNotice[] = [];
  const metrics = new Registry();
  const collection = new Collection({
    config,
    log: testLog,
    sink: async (docs) => void documents.push(...docs),
    metrics,
    notify: (n) => void notices.push(n),
    persistState: options.persistState ?? false,
    ...(options.only ? { only: options.only } : {}),
    ...(options.now ? { now: () => options.now! } : {}),
  });
  return { collection, documents, notices, metrics };
}

/**
 * One fixture server per test file, reset between tests. Returns an accessor because the server
 * exists only once beforeAll has run.
 */
export function useFixtureServer(): () => FixtureServer {
  let server: FixtureServer | undefined;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(() => server?.close());
  afterEach(() => server?.reset());
  return () => server!;
}
