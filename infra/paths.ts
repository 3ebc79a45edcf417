import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The project checkout. infra/ runs both from source (jest via @swc/jest) and from dist/infra
 * (the CLI), and the poms and Launcher.java are only in the source tree, so walk up to find it.
 */
export function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'infra', 'kafka', 'pom.xml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find the Shaobing project above ${__dirname}`);
  }
}

/** Where `infra up` keeps state.json and the stack's data, unless `--state-dir` says otherwise. */
export function defaultStateDir(): string {
  return path.join(projectRoot(), 'var', 'infra');
}
