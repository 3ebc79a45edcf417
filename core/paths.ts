import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The installed project: code runs both from source (tests, `-r @swc-node/register`) and compiled
 * under dist/, while data files (the sentiment model, example topics, infra poms, fixtures) stay
 * in the source tree, which tsc does not copy. Found by walking up to Shaobing's package.json.
 */
let root: string | undefined;

export function projectRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    // The bin stub marks the package root, as opposed to a copy of package.json somewhere under it.
    if (existsSync(join(dir, 'bin', 'shaobing.js')) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'shaobing') {
      return (root = dir);
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the Shaobing project above ${__dirname}`);
  }
}

/** A file or folder of the project's source tree, e.g. projectPath('examples', 'demo'). */
export function projectPath(...segments: string[]): string {
  return join(projectRoot(), ...segments);
}

export function projectVersion(): string {
  return (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
}
