import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { configPath, loadConfig } from '../core/config';
import { openEmbeddedDatabase } from '../core/embedded-db';
import { isShaobingError, ShaobingError } from '../core/errors';
import { createLogger } from '../core/logger';
import { RuleSet } from '../rules/rule-set';
import { createStore } from '../store';
import { topicNames } from './api/overview';
import { BRIEFING_FORMATS, type BriefingFormat } from './briefings/archive';
import { dayPeriod, latestCompleted, parseLocalDate, weekPeriod } from './briefings/period';
import { BriefingService } from './briefings/service';
import { consolePaths } from './paths';

/**
 * `shaobing briefing`: a 日报 or 周报 made on the server, into the console's archive or, with
 * --out, into a folder. It opens the store itself, so with the embedded store it runs only while
 * the daemon is stopped (the daemon holds the data dir); with Elasticsearch, at any time.
 */

interface Flags {
  config?: string;
  kind: 'daily' | 'weekly';
  date?: string;
  format: string;
  out?: string;
}

export function registerBriefingCommand(program: Command): void {
  program
    .command('briefing')
    .description('generate a briefing (舆情简报) now: daily = a calendar day, weekly = a Monday–Sunday week, in console.time_zone')
    .option('-c, --config <file>', 'configuration file (default: $SHAOBING_CONFIG, else ./shaobing.yaml)')
    .addOption(new Option('--kind <kind>', 'daily or weekly').choices(['daily', 'weekly']).default('daily'))
    .option('--date <YYYY-MM-DD>', 'a day of the period (default: yesterday, or last week)')
    .option('--format <list>', `formats, comma-separated (${BRIEFING_FORMATS.join(',')})`, BRIEFING_FORMATS.join(','))
    .option('--out <dir>', "write the files here instead of the console's briefing archive")
    .action(async (flags: Flags) => {
      const formats = flags.format.split(',').map((f) => f.trim()).filter(Boolean);
      const unknown = formats.filter((f) => !(BRIEFING_FORMATS as readonly string[]).includes(f));
      if (unknown.length > 0 || formats.length === 0) throw new ShaobingError('SB_CONFIG_INVALID', `--format: unknown format ${unknown.join(', ') || '(none)'}; choose from ${BRIEFING_FORMATS.join(', ')}`);
      const day = flags.date === undefined ? undefined : parseLocalDate(flags.date);
      if (flags.date !== undefined && day === undefined) throw new ShaobingError('SB_CONFIG_INVALID', `--date: ${flags.date} is not a date as YYYY-MM-DD`);

      const config = loadConfig(configPath(flags.config));
      const log = createLogger({ level: config.log.level });
      const timeZone = config.console.time_zone;
      const period = day === undefined ? latestCompleted(flags.kind, Date.now(), timeZone) : flags.kind === 'daily' ? dayPeriod(day, timeZone) : weekPeriod(day, timeZone);
      const store = createStore(config, { log, openDatabase: () => openEmbeddedDatabase(config.data_dir) });
      try {
        await store.init().catch((err: unknown) => {
          if (store.kind === 'embedded' && isShaobingError(err, 'SB_STORE_UNAVAILABLE')) {
            throw new ShaobingError('SB_STORE_UNAVAILABLE', `${err.message}. Stop the daemon first, or generate the briefing in the console (POST /api/briefings)`, { cause: err });
          }
          throw err;
        });
        const rules = new RuleSet({ paths: config.rules.paths });
        rules.reload();
        const service = new BriefingService({ config, store, dir: consolePaths(config).briefingsDir, log, now: () => new Date(), topicNames: () => topicNames({ rules }) });
        const { meta, files } = await service.generate({ period, by: `cli:${userInfo().username}`, formats: formats as BriefingFormat[], keep: flags.out === undefined });
        for (const format of meta.formats) {
          const path = flags.out ? join(resolve(flags.out), `${meta.id}.${format}`) : service.archive.filePath(meta.id, format)!;
          if (flags.out) {
            mkdirSync(resolve(flags.out), { recursive: true });
            writeFileSync(path, files[format]!);
          }
          process.stdout.write(`${path}\n`);
        }
        for (const [format, error] of Object.entries(meta.errors ?? {})) process.stderr.write(`${format}: ${error}\n`);
        if (meta.errors) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
