import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { configPath, loadConfig } from '../core/config';
import { createLogger } from '../core/logger';
import { Collection } from './collection';
import type { DocumentSink } from './types';

interface CollectFlags {
  config?: string;
  source?: string[];
  once?: boolean;
  output: string;
  keepState?: boolean;
}

/**
 * `shaobing collect`: what the configured sources yield, as JSON lines, instead of publishing to the
 * bus. Pages that fail are reported on stderr and do not change the exit code: the point is to see
 * what a source gives today.
 */
export function registerCollectCommands(program: Command): void {
  program
    .command('collect')
    .description('run the configured sources and print their documents as JSON lines instead of publishing them')
    .option('-c, --config <file>', 'configuration file (default: $SHAOBING_CONFIG, else ./shaobing.yaml)')
    .option('-s, --source <names...>', 'only these sources (repeat or list); default every enabled source')
    .option('--once', 'run one round of each source, then exit (without it: keep running on the schedules until Ctrl-C)')
    .option('-o, --output <file>', 'where the JSON lines go; "-" is stdout', '-')
    .option('--keep-state', 'read and update the daemon\'s cursors and seen-sets under data_dir (default: start fresh, remember nothing)')
    .action(async (flags: CollectFlags) => {
      const config = loadConfig(configPath(flags.config));
      const log = createLogger({ level: config.log.level });
      const out = flags.output === '-' ? process.stdout : createWriteStream(flags.output, { flags: 'a' });
      const sink: DocumentSink = async (documents) => {
        for (const doc of documents) {
          if (!out.write(`${JSON.stringify(doc)}\n`)) await once(out, 'drain');
        }
      };
      const collection = new Collection({
        config,
        log,
        sink,
        persistState: flags.keepState ?? false,
        ...(flags.source ? { only: flags.source } : {}),
      });
      if (collection.runners.length === 0) process.stderr.write('collect: no enabled sources in the configuration\n');
      try {
        if (flags.once) {
          const reports = await collection.runOnce();
          for (const r of reports) {
            const status = r.failed ? `${r.blocked ? 'BLOCKED' : 'FAILED'}: ${r.error?.code} ${r.error?.message}` : 'ok';
            process.stderr.write(`collect: ${r.source}: ${r.documents} documents, ${r.pageFailures} failed pages, ${(r.durationMs / 1000).toFixed(1)} s, ${status}\n`);
          }
        } else {
          const stopped = new Promise<void>((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
          });
          collection.start();
          await stopped;
        }
      } finally {
        await collection.stop();
        if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
      }
    });
}
