import { acquireTestServices, type TestServices } from '../../infra/test-services';
import { stderrProgress } from '../../infra/progress';

/** globalSetup and globalTeardown share one process but no module instance; globalThis links them. */
export const SERVICES_KEY = Symbol.for('shaobing.testServices');

/**
 * Real Kafka and a real search engine for the whole run: ones named by SHAOBING_TEST_* or by a
 * running `shaobing infra up`, else started here (SHAOBING_TEST_SERVICES=none: nothing at all).
 * Workers are forked after this returns, so they inherit the variables set here.
 */
export default async function globalSetup(): Promise<void> {
  const services = await acquireTestServices({ progress: stderrProgress });
  Object.assign(process.env, services.env);
  (globalThis as Record<symbol, TestServices | undefined>)[SERVICES_KEY] = services;
}
