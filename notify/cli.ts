import Fastify, { type FastifyBaseLogger } from 'fastify';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { configPath, loadConfig, type Config } from '../core/config';
import { openEmbeddedDatabase } from '../core/embedded-db';
import { isShaobingError, ShaobingError } from '../core/errors';
import { createLogger, type Logger } from '../core/logger';
import type { Level } from '../core/records';
import { createStore } from '../store';
import { ackRoutes } from './ack';
import { adminRequest } from './admin';
import { createSenders } from './channels';
import { Notifier } from './notifier';
import { loadRoster, onDuty, parseLocalDateTime, personById, type Roster } from './roster';
import { formatIsoInZone } from '../core/time';

/**
 * `shaobing duty who [--at <time>]`: who holds each rotation at an instant.
 * `shaobing drill --level <1|2|3>`: a marked drill alert through the whole chain, and a report.
 */

const CONFIG_HELP = 'configuration file (default: $SHAOBING_CONFIG, else ./shaobing.yaml)';

export interface DutyCommandOptions {
  stdout?: (text: string) => void;
  /** Default Date.now. */
  now?: () => number;
}

export function registerDutyCommands(program: Command, options: DutyCommandOptions = {}): Command {
  const out = options.stdout ?? ((text: string) => process.stdout.write(text));
  const now = options.now ?? Date.now;
  const duty = program.command('duty').description('the duty roster (值班表)');

  duty
    .command('who')
    .description('show who is on duty, per rotation, now or at --at')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--roster <file>', 'a roster file instead of notify.roster of the configuration')
    .option('--at <time>', 'an instant: "YYYY-MM-DD HH:MM" in the roster time zone, or ISO 8601 with offset')
    .option('--json', 'one JSON object per rotation')
    .action((flags: { config?: string; roster?: string; at?: string; json?: boolean }) => {
      const roster = rosterFrom(flags);
      const at = flags.at ? parseLocalDateTime(flags.at, roster.time_zone) : now();
      if (Number.isNaN(at)) throw new ShaobingError('SB_CONFIG_INVALID', `--at ${flags.at}: expected "YYYY-MM-DD HH:MM" or ISO 8601 with offset`);
      out(formatWho(roster, at, flags.json ?? false));
    });

  program
    .command('drill')
    .description('应急演练: send a clearly marked drill alert through the whole chain; report per person the time to deliver and to acknowledge (through the running daemon when one answers)')
    .option('-c, --config <file>', CONFIG_HELP)
    .addOption(new Option('--level <level>', 'the drill level').choices(['1', '2', '3']).makeOptionMandatory())
    .option('--policy <name>', 'escalation policy (default: default)')
    .option('--wait <seconds>', 'how long to keep escalating and wait for an acknowledgement', (v) => positive(v), 300)
    .option('--json', 'print the report as JSON')
    .action(async (flags: { config?: string; level: string; policy?: string; wait: number; json?: boolean }) => {
      const config = loadConfig(configPath(flags.config));
      if (!config.notify.roster) throw new ShaobingError('SB_CONFIG_INVALID', 'notify.roster is not set: a drill needs the duty roster');
      const level = Number(flags.level) as Level;
      const log = createLogger({ level: config.log.level });
      const daemon = await drillThroughDaemon(config, level, flags.policy, flags.wait * 1000);
      const result = daemon ?? (await drillInProcess(config, log, level, flags.policy, flags.wait * 1000));
      if (flags.json) out(`${JSON.stringify({ alert: result.alert, level, via: result.via, people: result.people })}\n`);
      else {
        const secs = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
        out(`drill ${result.alert} (level ${level}, ${result.via === 'daemon' ? 'through the running daemon' : 'in this process'})\n`);
        for (const r of result.people) out(`  ${r.name} (${r.person})  delivered: ${secs(r.delivered_ms)}${r.channel ? ` via ${r.channel}` : ''}  acknowledged: ${secs(r.acknowledged_ms)}  failed attempts: ${r.failed_attempts}\n`);
        if (result.people.length === 0) out('  nobody was reached: check the roster and notify.channels\n');
      }
    });
  return program;
}

type DrillReport = Awaited<ReturnType<Notifier['drillReport']>>;
interface DrillResult {
  alert: string;
  via: 'daemon' | 'process';
  people: DrillReport;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The drill run by the daemon's notifier (notify/admin.ts), when one answers at notify.ack.host:port;
 * undefined when nothing listens there, so the caller runs it itself.
 */
async function drillThroughDaemon(config: Config, level: Level, policy: string | undefined, waitMs: number): Promise<DrillResult | undefined> {
  const { secret, host, port } = config.notify.ack;
  if (!secret) return undefined;
  const base = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`;
  let alert: string;
  try {
    ({ alert } = await adminRequest<{ alert: string }>(base, secret, 'POST', '/admin/drill', { level, ...(policy ? { policy } : {}) }));
  } catch (err) {
    if (isShaobingError(err, 'SB_NOTIFY_SEND_FAILED')) return undefined;
    throw err;
  }
  const status = () => adminRequest<{ status: string; people: DrillReport }>(base, secret, 'GET', `/admin/drill/${alert}`);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && (await status()).status === 'open') await sleep(1000);
  const { people } = await status();
  await adminRequest(base, secret, 'POST', `/admin/drill/${alert}/end`);
  return { alert, via: 'daemon', people };
}

/** The drill in this process, on the store opened here: for when no daemon runs. */
async function drillInProcess(config: Config, log: Logger, level: Level, policy: string | undefined, waitMs: number): Promise<DrillResult> {
  const s = config.notify;
  const roster = loadRoster(s.roster!);
  const store = createStore(config, { log, openDatabase: () => openEmbeddedDatabase(config.data_dir) });
  const senders = createSenders(s.channels);
  const ack = s.ack.secret && s.public_url ? { secret: s.ack.secret, publicUrl: s.public_url, ttlMs: s.ack.ttl_minutes * 60_000 } : undefined;
  const notifier = new Notifier({ store, roster, policies: s.policies, senders, log, operators: s.operators, operatorChannels: s.operator_channels, ...(ack ? { ack } : {}) });
  const server = ack ? Fastify({ loggerInstance: log.child({ component: 'ack-http' }, { level: 'warn' }) as FastifyBaseLogger }) : undefined;
  try {
    try {
      await store.init();
    } catch (err) {
      if (store.kind === 'embedded' && isShaobingError(err, 'SB_STORE_UNAVAILABLE')) {
        throw new ShaobingError(
          'SB_STORE_UNAVAILABLE',
          `${err.message}. A daemon holds the data dir but no notifier answers at ${s.ack.host}:${s.ack.port}${s.ack.secret ? '' : ' (notify.ack.secret is not set, so the drill cannot ask it)'}: run the drill where the daemon's notifier runs, or stop the daemon`,
          { cause: err, retriable: false },
        );
      }
      throw err;
    }
    if (server && ack) {
      await server.register(ackRoutes, { store, secret: ack.secret, log, onAcknowledged: (id) => notifier.acknowledged(id) });
      await server.listen({ host: s.ack.host, port: s.ack.port });
    }
    const alert = await notifier.startDrill(level, policy);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if ((await store.getAlert(alert.id))?.value.status !== 'open') break;
      await sleep(1000);
      await notifier.tick();
    }
    const people = await notifier.drillReport(alert.id);
    await notifier.endDrill(alert.id);
    return { alert: alert.id, via: 'process', people };
  } finally {
    await server?.close();
    for (const list of senders.values()) for (const sender of list) sender.close?.();
    await store.close();
  }
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of seconds');
  return n;
}

function rosterFrom(flags: { config?: string; roster?: string }): Roster {
  if (flags.roster) return loadRoster(flags.roster);
  const config = loadConfig(configPath(flags.config));
  if (!config.notify.roster) throw new ShaobingError('SB_CONFIG_INVALID', 'notify.roster is not set (or pass --roster FILE)');
  return loadRoster(config.notify.roster);
}

/** The text `duty who` prints: one line per rotation, plus the leaders. */
export function formatWho(roster: Roster, at: number, json: boolean): string {
  const zone = roster.time_zone;
  const shifts = onDuty(roster, at);
  const name = (id: string) => personById(roster, id)?.name ?? id;
  if (json) {
    return shifts
      .map((s) => `${JSON.stringify({ rotation: s.rotation, person: s.person, name: name(s.person), from: formatIsoInZone(s.from, zone), to: formatIsoInZone(s.to, zone), source: s.source, ...(s.reason ? { reason: s.reason } : {}) })}\n`)
      .join('');
  }
  const lines = [`on duty at ${formatIsoInZone(at, zone)} (${zone}):`];
  for (const rotation of roster.rotations) {
    const s = shifts.find((x) => x.rotation === rotation.id);
    lines.push(
      s
        ? `  ${rotation.id}: ${name(s.person)} (${s.person}, ${personById(roster, s.person)?.mobile ?? 'no mobile'}) from ${formatIsoInZone(s.from, zone)} to ${formatIsoInZone(s.to, zone)}${s.source === 'override' ? ` [override${s.reason ? `: ${s.reason}` : ''}]` : ''}`
        : `  ${rotation.id}: nobody (the rotation starts ${rotation.start})`,
    );
  }
  if (roster.leaders.length) lines.push(`  leaders: ${roster.leaders.map(name).join(', ')}`);
  if (roster.next_tier.length) lines.push(`  next tier: ${roster.next_tier.map(name).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
