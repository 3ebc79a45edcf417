import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEsCompatProxy } from './es-compat-proxy';
import { startKafka } from './kafka';
import { ensureClasspath } from './maven';
import { startOpenSearch } from './opensearch';
import { esCompatReachable, kafkaReachable } from './probes';
import { noProgress, seconds, type Progress } from './progress';
import { readStackState } from './stack';

/**
 * The real Kafka and search engine for a test run (used by test/setup/global-setup.ts). Tests
 * find them through these variables; chaos tests use the data dir, ports and pids to stop and
 * restart what runs (only when SHAOBING_TEST_SERVICES_SOURCE is `started`: the others are not
 * this run's to break).
 */
export const TEST_ENV = {
  services: 'SHAOBING_TEST_SERVICES',
  source: 'SHAOBING_TEST_SERVICES_SOURCE',
  kafkaBrokers: 'SHAOBING_TEST_KAFKA_BROKERS',
  kafkaDataDir: 'SHAOBING_TEST_KAFKA_DATA_DIR',
  kafkaPort: 'SHAOBING_TEST_KAFKA_PORT',
  kafkaControllerPort: 'SHAOBING_TEST_KAFKA_CONTROLLER_PORT',
  kafkaPid: 'SHAOBING_TEST_KAFKA_PID',
  esUrl: 'SHAOBING_TEST_ES_URL',
  openSearchUrl: 'SHAOBING_TEST_OPENSEARCH_URL',
  openSearchDataDir: 'SHAOBING_TEST_OPENSEARCH_DATA_DIR',
  openSearchPort: 'SHAOBING_TEST_OPENSEARCH_PORT',
  openSearchPid: 'SHAOBING_TEST_OPENSEARCH_PID',
} as const;

export interface TestServices {
  /** `env`: given by the caller; `stack`: a running `infra up`; `started`: ours, stopped by release(). */
  source: 'none' | 'env' | 'stack' | 'started';
  /** Variables to put into process.env for the test workers. */
  env: Record<string, string>;
  /** Stops exactly what acquireTestServices started, nothing else. Safe to call twice. */
  release(): Promise<void>;
}

export interface TestServicesOptions {
  env?: NodeJS.ProcessEnv;
  progress?: Progress;
}

const nothingToRelease = async () => {};

export async function acquireTestServices(opts: TestServicesOptions = {}): Promise<TestServices> {
  const env = opts.env ?? process.env;
  const progress = opts.progress ?? noProgress;

  if (env[TEST_ENV.services] === 'none') return { source: 'none', env: {}, release: nothingToRelease };

  const givenBrokers = env[TEST_ENV.kafkaBrokers];
  const givenEsUrl = env[TEST_ENV.esUrl];
  if (givenBrokers && givenEsUrl) {
    if (await reachable(givenBrokers.split(','), givenEsUrl)) {
      progress(`using the services given in ${TEST_ENV.kafkaBrokers} and ${TEST_ENV.esUrl}`);
      return { source: 'env', env: { [TEST_ENV.source]: 'env' }, release: nothingToRelease };
    }
    progress(`${TEST_ENV.kafkaBrokers}=${givenBrokers} / ${TEST_ENV.esUrl}=${givenEsUrl} do not answer; looking further`);
  }

  const stack = await readStackState();
  if (stack.kafka && stack.opensearch && stack.proxy && (await reachable(stack.kafka.brokers, stack.proxy.url))) {
    progress('using the stack started by `shaobing infra up`');
    return {
      source: 'stack',
      env: servicesEnv('stack', stack.kafka, stack.opensearch, stack.proxy.url),
      release: nothingToRelease,
    };
  }

  return startTestServices(progress);
}

async function startTestServices(progress: Progress): Promise<TestServices> {
  const mavenStartedAt = Date.now();
  await Promise.all([ensureClasspath('kafka', { progress }), ensureClasspath('opensearch', { progress })]);
  progress(`maven classpaths ready in ${seconds(mavenStartedAt)}`);

  const root = await mkdtemp(path.join(os.tmpdir(), 'shaobing-services-'));
  const [kafka, openSearch] = await Promise.allSettled([
    startKafka({ dataDir: path.join(root, 'kafka'), progress }),
    startOpenSearch({ dataDir: path.join(root, 'opensearch'), progress }),
  ]);
  if (kafka.status === 'rejected' || openSearch.status === 'rejected') {
    await Promise.all([kafka, openSearch].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    await rm(root, { recursive: true, force: true });
    throw kafka.status === 'rejected' ? kafka.reason : (openSearch as PromiseRejectedResult).reason;
  }
  const k = kafka.value;
  const o = openSearch.value;
  // In-process: it dies with the jest process, and needs no build step.
  const proxy = await startEsCompatProxy({ target: o.url });

  let releasing: Promise<void> | undefined;
  const release = () => {
    releasing ??= (async () => {
      await Promise.all([proxy.close(), k.stop(), o.stop()]);
      // Retries: a broker a chaos test restarted may still be flushing into the dir.
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    })();
    return releasing;
  };
  return { source: 'started', env: servicesEnv('started', k, o, proxy.url), release };
}

interface KafkaFacts { brokers: string[]; dataDir: string; port: number; controllerPort: number; pid: number }
interface OpenSearchFacts { url: string; dataDir: string; port: number; pid: number }

function servicesEnv(source: TestServices['source'], k: KafkaFacts, o: OpenSearchFacts, esUrl: string): Record<string, string> {
  return {
    [TEST_ENV.source]: source,
    [TEST_ENV.kafkaBrokers]: k.brokers.join(','),
    [TEST_ENV.kafkaDataDir]: k.dataDir,
    [TEST_ENV.kafkaPort]: String(k.port),
    [TEST_ENV.kafkaControllerPort]: String(k.controllerPort),
    [TEST_ENV.kafkaPid]: String(k.pid),
    [TEST_ENV.esUrl]: esUrl,
    [TEST_ENV.openSearchUrl]: o.url,
    [TEST_ENV.openSearchDataDir]: o.dataDir,
    [TEST_ENV.openSearchPort]: String(o.port),
    [TEST_ENV.openSearchPid]: String(o.pid),
  };
}

async function reachable(brokers: string[], esUrl: string): Promise<boolean> {
  const [kafkaOk, esOk] = await Promise.all([kafkaReachable(brokers), esCompatReachable(esUrl)]);
  return kafkaOk && esOk;
}
