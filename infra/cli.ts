import { InvalidArgumentError, type Command } from 'commander';
import { stackDown, stackStatus, stackUp, STACK_DEFAULTS, type ComponentName, type StackOptions } from './stack';
import { stderrProgress } from './progress';

const LABELS: Record<ComponentName, string> = {
  kafka: 'kafka',
  opensearch: 'opensearch (raw)',
  proxy: 'elasticsearch (compat proxy)',
};

/** Commander's camel-casing of the flags below. */
interface StackFlags {
  stateDir?: string;
  kafkaPort?: number;
  opensearchPort?: number;
  proxyPort?: number;
}

/** `shaobing infra up|down|status`, added to the main program by cli/main.ts. */
export function registerInfraCommands(program: Command): void {
  const infra = program
    .command('infra')
    .description('run a local Kafka and OpenSearch (fetched from Maven Central, run on the JDK) for development');

  infra
    .command('up')
    .description(
      'start Kafka, OpenSearch and the Elasticsearch-compatibility proxy in the background, wait until they answer, ' +
        'and print their endpoints; a no-op for what is already running',
    )
    .option('--state-dir <dir>', 'where state.json and the data live (default: var/infra in the project)')
    .option('--kafka-port <port>', `Kafka broker port (default: ${STACK_DEFAULTS.kafkaPort}, or the last one used)`, parsePort)
    .option('--opensearch-port <port>', `raw OpenSearch HTTP port (default: ${STACK_DEFAULTS.openSearchPort}, or the last one used)`, parsePort)
    .option('--proxy-port <port>', `port of the proxy the Elasticsearch client uses (default: ${STACK_DEFAULTS.proxyPort}, or the last one used)`, parsePort)
    .action(async (flags: StackFlags) => {
      const result = await stackUp({ ...stackOptions(flags), kafkaPort: flags.kafkaPort, openSearchPort: flags.opensearchPort, proxyPort: flags.proxyPort });
      for (const name of result.alreadyRunning) stderrProgress(`${LABELS[name]} was already running`);
      const { kafka, opensearch, proxy } = result.state;
      process.stdout.write(
        [
          `kafka brokers:  ${kafka?.brokers.join(',') ?? '-'}`,
          `elasticsearch:  ${proxy?.url ?? '-'}   (for the official client; a proxy in front of OpenSearch)`,
          `opensearch:     ${opensearch?.url ?? '-'}   (raw engine)`,
          '',
        ].join('\n'),
      );
    });

  infra
    .command('down')
    .description('stop what `infra up` started; data and ports stay in the state dir for the next `up`')
    .option('--state-dir <dir>', 'where state.json lives (default: var/infra in the project)')
    .action(async (flags: StackFlags) => {
      const stopped = await stackDown(stackOptions(flags));
      process.stdout.write(stopped.length ? `stopped: ${stopped.map((n) => LABELS[n]).join(', ')}\n` : 'nothing was running\n');
    });

  infra
    .command('status')
    .description('say which local services are running and answering; exit code 1 unless all are')
    .option('--state-dir <dir>', 'where state.json lives (default: var/infra in the project)')
    .action(async (flags: StackFlags) => {
      const statuses = await stackStatus(stackOptions(flags));
      for (const s of statuses) {
        const state = !s.listed ? 'not started' : !s.running ? 'stopped' : s.reachable ? 'up' : 'running, not answering';
        const details = s.listed ? `  ${s.endpoint}  pid ${s.pid}  log ${s.logFile}` : '';
        process.stdout.write(`${LABELS[s.name].padEnd(30)}${state}${details}\n`);
      }
      if (!statuses.every((s) => s.reachable)) process.exitCode = 1;
    });
}

function stackOptions(flags: StackFlags): StackOptions {
  return { stateDir: flags.stateDir, progress: stderrProgress };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidArgumentError('expected a port number (1-65535)');
  return port;
}
