import { Command, CommanderError, Option } from 'commander';
import { configPath, loadConfig } from '../core/config';
import { isShaobingError } from '../core/errors';
import { createLogger } from '../core/logger';
import { projectVersion } from '../core/paths';
import { createDaemon } from '../daemon/daemon';
import { ROLE_FACTORIES } from '../daemon/available-roles';
import type { RoleName } from '../daemon/roles';
import { registerCollectCommands } from '../collectors/cli';
import { registerInfraCommands } from '../infra/cli';
import { registerDemoCommand } from './demo';
import { registerDutyCommands } from '../notify/cli';
import { registerRulesCommands } from '../rules/cli';
import { registerEvalCommands } from '../rules/sentiment/cli';
import { registerBriefingCommand } from '../console/briefing-cli';
import { registerUserCommands } from '../console/users-cli';

/** sysexits' EX_CONFIG: the systemd unit does not restart on it, since a restart cannot fix a bad file. */
export const EXIT_CONFIG = 78;

const CONFIG_HELP = 'configuration file (default: $SHAOBING_CONFIG, else ./shaobing.yaml)';

export function buildProgram(): Command {
  const program = new Command('shaobing')
    .description('Shaobing (哨兵): public-opinion monitoring — collect, match, grade, alert the person on duty')
    .version(projectVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('run')
    .description('run the daemon: collectors, pipeline and notifier in one process, or the roles named by --role')
    .option('-c, --config <file>', CONFIG_HELP)
    .addOption(new Option('--role <roles...>', 'run only these roles').choices(Object.keys(ROLE_FACTORIES)))
    .action(async (flags: { config?: string; role?: RoleName[] }) => {
      const config = loadConfig(configPath(flags.config));
      const log = createLogger({ level: config.log.level });
      const daemon = createDaemon({ config, log, factories: ROLE_FACTORIES, ...(flags.role ? { roles: flags.role } : {}) });
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'stopping');
          void daemon.stop().then(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      await daemon.start();
      await stopped;
    });

  program
    .command('config')
    .description('check a configuration file and print the settings in effect (defaults and environment overrides applied)')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print the effective configuration as JSON')
    .action((flags: { config?: string; json?: boolean }) => {
      const file = configPath(flags.config);
      const config = loadConfig(file);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      } else {
        const bus = config.bus.kafka ? `kafka (${config.bus.kafka.brokers.join(', ')})` : 'embedded';
        const store = config.store.elasticsearch ? `elasticsearch (${[config.store.elasticsearch.node].flat().join(', ')})` : 'embedded';
        process.stdout.write(`${file}: ok\n  bus:   ${bus}\n  store: ${store}\n  data:  ${config.data_dir}\n`);
      }
    });

  registerDemoCommand(program);
  registerCollectCommands(program);
  registerInfraCommands(program);
  registerRulesCommands(program);
  registerEvalCommands(program);
  registerDutyCommands(program);
  registerBriefingCommand(program);
  registerUserCommands(program);
  return program;
}

/** Runs the CLI and resolves to the exit code; errors a user can act on are printed plainly. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isShaobingError(err, 'SB_CONFIG_INVALID') || isShaobingError(err, 'SB_CONFIG_NOT_FOUND')) {
      process.stderr.write(`${err.message}\n`);
      return EXIT_CONFIG;
    }
    if (isShaobingError(err)) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
