import path from 'node:path';
import { projectRoot } from '../core/paths';

/** Where `infra up` keeps state.json and the stack's data, unless `--state-dir` says otherwise. */
export function defaultStateDir(): string {
  return path.join(projectRoot(), 'var', 'infra');
}
