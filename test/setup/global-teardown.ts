import type { TestServices } from '../../infra/test-services';
import { SERVICES_KEY } from './global-setup';

/** Stops exactly what global-setup started; services it only found are left running. */
export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as Record<symbol, TestServices | undefined>)[SERVICES_KEY];
  await services?.release();
}
