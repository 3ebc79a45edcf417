import { join } from 'node:path';
import type { Config } from '../core/config';
import type { ConsolePaths } from './context';

/** Where the console keeps its state, resolved once from `console:` and `data_dir` (config paths are absolute already). */
export function consolePaths(config: Config): ConsolePaths {
  const stateDir = join(config.data_dir, 'console');
  return {
    stateDir,
    usersFile: config.console.users_file ?? join(stateDir, 'users.json'),
    rulesHistoryDir: config.console.rules_history_dir ?? join(stateDir, 'rules-history'),
    briefingsDir: config.console.briefings.dir ?? join(stateDir, 'briefings'),
  };
}
