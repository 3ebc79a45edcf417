import Fastify, { type FastifyBaseLogger } from 'fastify';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { applyAction } from '../alerts/lifecycle';
import { configPath, loadConfig } from '../core/config';
import { openEmbeddedDatabase } from '../core/embedded-db';
import { ShaobingError } from '../core/errors';
import { createLogger } from '../core/logger';
import type { Level } from '../core/records';
import { createStore } from '../store';
import { ackRoutes } from './ack';
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
    .description('应急演练: send a clearly marked drill alert through the whole chain; report per person the time to deliver and to acknowledge')
    .option('-c, --config <file>', CONFIG_HELP)
    .addOption(new Option('--level <level>', 'the drill level').choices(['1', '2', '3']).makeOptionMandatory())
    .option('--policy <name>', 'escalation policy (default: default)')
    .option('--wait <seconds>', 'how long to keep escalating and wait for an acknowledgement', (v) => positive(v), 300)
    .option('--json', 'print the report as JSON')
    .action(async (flags: { config?: string; level: string; policy?: string; wait: number; json?: boolean }) => {
      const config = loadConfig(configPath(flags.config));
      if (!config.notify.roster) throw new ShaobingError('SB_CONFIG_INVALID', 'notify.roster is not set: a drill needs the duty roster');
      const log = createLogger({ level: config.log.level });
      const roster = loadRoster(config.notify.roster);
      // With the embedded store the daemon holds the data dir: the drill then fails with a plain SB_STORE_UNAVAILABLE.
      const store = createStore(config, { log, openDatabase: () => openEmbeddedDatabase(config.data_dir) });
      const senders = createSenders(config.notify.channels);
      const s = config.notify;
      const ack = s.ack.secret && s.public_url ? { secret: s.ack.secret, publicUrl: s.public_url, ttlMs: s.ack.ttl_minutes * 60_000 } : undefined;
      const notifier = new Notifier({ store, roster, policies: s.policies, senders, log, operators: s.operators, ...(ack ? { ack } : {}) });
      const server = ack ? Fastify({ loggerInstance: log.child({ component: 'ack-http' }, { level: 'warn' }) as FastifyBaseLogger }) : undefined;
      try {
        await store.init();
        if (server && ack) {
          await server.register(ackRoutes, { store, secret: ack.secret, log, onAcknowledged: (id) => notifier.acknowledged(id) });
          await server.listen({ host: s.ack.host, port: s.ack.port });
        }
        const alert = await notifier.startDrill(Number(flags.level) as Level, flags.policy);
        const deadline = Date.now() + flags.wait * 1000;
        while (Date.now() < deadline) {
          const current = await store.getAlert(alert.id);
          if (current?.value.status !== 'open') break;
          await new Promise((r) => setTimeout(r, 1000));
          await notifier.tick();
        }
        const report = await notifier.drillReport(alert.id);
        const current = await store.getAlert(alert.id);
        if (current && current.value.status !== 'closed') {
          await store.updateAlert(applyAction(current.value, { action: 'close', by: 'system', at: new Date().toISOString(), note: '演练结束' }), current.version);
        }
        if (flags.json) out(`${JSON.stringify({ alert: alert.id, level: Number(flags.level), people: report })}\n`);
        else {
          const secs = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
          out(`drill ${alert.id} (level ${flags.level})\n`);
          for (const r of report) out(`  ${r.name} (${r.person})  delivered: ${secs(r.delivered_ms)}${r.channel ? ` via ${r.channel}` : ''}  acknowledged: ${secs(r.acknowledged_ms)}  failed attempts: ${r.failed_attempts}\n`);
          if (report.length === 0) out('  nobody was reached: check the roster and notify.channels\n');
        }
      } finally {
        await server?.close();
        for (const list of senders.values()) for (const sender of list) sender.close?.();
        await store.close();
      }
    });
  return program;
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
