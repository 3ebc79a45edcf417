import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * bench/data, whether a bench runs from its TypeScript source or compiled under dist/bench/
 * (the `bench:*` scripts run compiled code, as production does: a TypeScript require hook alone
 * would add some 150 MB to the peak RSS being measured).
 */
export function benchData(name: string): string {
  const beside = join(__dirname, 'data', name);
  return existsSync(beside) ? beside : resolve(__dirname, '../../bench/data', name);
}
