import { projectPath } from '../core/paths';

/** bench/data, whether a bench runs from its TypeScript source or compiled under dist/bench/. */
export function benchData(name: string): string {
  return projectPath('bench', 'data', name);
}
