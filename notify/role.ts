import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import type { BusMessage, Subscription } from '../bus/types';
import { ShaobingError } from '../core/errors';
import { stopOnce } from '../core/lifecycle';
import { AlertEvent, OperatorNotice } from '../core/records';
import { formatIssue, YamlValidationError } from '../core/yaml-file';
import { formatIsoInZone } from '../core/time';
import { watchFiles } from '../core/watch-files';
import type { Role, RoleContext, RoleFactory, RoleHealth } from '../daemon/roles';
import { ackRoutes } from './ack';
import { adminRoutes } from './admin';
import { createSenders, type Sender } from './channels';
import type { NotifyConfig } from './config';
import { checkPolicy, type NotifyChannel } from './policy';
import { loadRoster, type Roster } from './roster';
import { Notifier } from './notifier';
import { smsReplyRoutes } from './sms-reply';

export interface NotifierRoleOptions {
  /** Default Date.now (tests pass a clock). */
  now?: () => number;
  /** Backoff between attempts on one sender; default 500 ms doubling to 5 s. */
  retryDelayMs?: { initial: number; max: number };
  /** Quiet period after a roster file event before it is reloaded; default 300 ms. */
  rosterDebounceMillis?: number;
}

export interface NotifierRole extends Role {
  /** The engine, once started with a roster (for drills and tests). */
  readonly notifier: Notifier | undefined;
  /** Where the acknowledgement links, SMS replies and drill requests are served, once listening. */
  readonly ackUrl: string | undefined;
  /** Reads the roster file again now (the watcher does this on every change); false when it was rejected. */
  reloadRoster(): boolean;
}

/**
 * Problems with a roster against the configured policies and operators, said plainly; the
 * roster's own mistakes come from its loader with file:line:col.
 */
function rosterProblems(settings: NotifyConfig, roster: Roster): string[] {
  const problems = Object.entries(settings.policies).flatMap(([name, p]) => checkPolicy(name, p, roster));
  const unknownOperators = settings.operators.filter((id) => !roster.people.some((p) => p.id === id));
  if (unknownOperators.length) problems.push(`notify.operators: not in the roster: ${unknownOperators.join(', ')}`);
  return problems;
}

/**
 * The `notifier` role: consumes `alert_events` (group `notify.group`) and `operator_notices`
 * (group `<notify.group>.notices`), pages by policy until someone acknowledges, and serves the
 * acknowledgement links, SMS reply callbacks and drill requests on `notify.ack.host:port`. On start
 * it resumes the escalations a previous process left in progress (from the delivery log). The
 * roster file is watched: a valid edit is used from the next round on; a broken one keeps the last
 * good roster and says where it is broken (log, /readyz detail, metric). Without a roster it idles
 * and says so on /readyz (ready: the rest of the daemon works without it).
 */
export function createNotifierRole(context: RoleContext, options: NotifierRoleOptions = {}): NotifierRole {
  const { config, bus, store, log, metrics } = context;
  const settings = config.notify;
  const now = options.now ?? Date.now;
  let notifier: Notifier | undefined;
  const subscriptions: Subscription[] = [];
  let server: FastifyInstance | undefined;
  let ackUrl: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let senders: Map<NotifyChannel, Sender[]> = new Map();
  let problem: string | undefined;
  let rosterProblem: string | undefined;
  let rosterLoadedAt: number | undefined;
  let unwatch: (() => void) | undefined;
  let started = false;

  const rosterReloads = new Counter({
    name: 'shaobing_notify_roster_reloads_total',
    help: 'Roster file reloads, by result (ok: in force; rejected: broken, the last good roster kept)',
    labelNames: ['result'] as const,
    registers: [metrics],
  });
  const rosterValid = new Gauge({
    name: 'shaobing_notify_roster_valid',
    help: '1 while the roster file on disk is the roster in force; 0 after a broken edit (the last good one is kept)',
    registers: [metrics],
  });

  const tick = () => {
    if (!notifier || ticking) return;
    ticking = notifier
      .tick()
      .catch((err: unknown) => log.error({ err }, 'notifier tick failed'))
      .finally(() => (ticking = undefined));
  };

  /** The roster file, checked against the policies and operators; throws YamlValidationError or SB_CONFIG_INVALID. */
  const readRoster = (file: string): Roster => {
    const roster = loadRoster(file);
    const problems = rosterProblems(settings, roster);
    if (problems.length) throw new ShaobingError('SB_CONFIG_INVALID', `${file}: ${problems.join('; ')}`);
    return roster;
  };

  const reloadRoster = (): boolean => {
    if (!settings.roster || !notifier) return false;
    try {
      const roster = readRoster(settings.roster);
      notifier.setRoster(roster);
      rosterProblem = undefined;
      rosterLoadedAt = now();
      rosterReloads.inc({ result: 'ok' });
      rosterValid.set(1);
      log.info({ file: settings.roster, people: roster.people.length }, 'duty roster reloaded; the next round uses it');
      return true;
    } catch (err) {
      const issues = err instanceof YamlValidationError ? err.issues.map(formatIssue) : [(err as Error).message];
      const kept = rosterLoadedAt === undefined ? 'the roster loaded at start' : `the roster loaded at ${formatIsoInZone(rosterLoadedAt, notifier.roster.time_zone)}`;
      rosterProblem = `roster rejected, keeping ${kept}: ${issues.join('; ')}`;
      rosterReloads.inc({ result: 'rejected' });
      rosterValid.set(0);
      log.error({ issues }, 'duty roster rejected; keeping the last good roster');
      return false;
    }
  };

  /** Decodes each message with `parse`; a malformed one is logged and skipped, since blocking the partition on it would page nobody else either. */
  const consume = <T>(what: string, parse: (value: unknown) => T, handle: (item: T) => Promise<unknown>) => async (messages: BusMessage[]) => {
    for (const message of messages) {
      let item: T;
      try {
        item = parse(JSON.parse(message.value.toString('utf8')));
      } catch (err) {
        log.error({ err, offset: message.offset }, `malformed ${what} skipped`);
        continue;
      }
      await handle(item);
    }
  };

  return {
    name: 'notifier',
    get notifier() {
      return notifier;
    },
    get ackUrl() {
      return ackUrl;
    },
    reloadRoster,

    async start() {
      started = true;
      if (!settings.roster) {
        problem = 'no duty roster configured (notify.roster): alerts are stored but nobody is paged';
        log.warn(problem);
        return;
      }
      const roster = readRoster(settings.roster);
      rosterValid.set(1);

      senders = createSenders(settings.channels, { now });
      const secret = settings.ack.secret;
      const links = secret && settings.public_url ? { secret, publicUrl: settings.public_url, ttlMs: settings.ack.ttl_minutes * 60_000 } : undefined;
      if (!links) log.warn('notify.public_url or notify.ack.secret not set: messages carry no acknowledgement link');
      const engine = new Notifier({
        store,
        roster,
        policies: settings.policies,
        senders,
        log,
        now,
        ...(links ? { ack: links } : {}),
        realertMs: settings.limits.realert_minutes * 60_000,
        perPersonPerHour: settings.limits.per_person_per_hour,
        ...(settings.quiet_hours ? { quietHours: settings.quiet_hours } : {}),
        operators: settings.operators,
        operatorChannels: settings.operator_channels,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
      });
      notifier = engine;
      await engine.resume();

      const httpSecret = settings.channels.sms.find((p) => p.provider === 'http')?.secret;
      if (secret || settings.ack.reply_token || httpSecret) {
        server = Fastify({ loggerInstance: log.child({ component: 'ack-http' }, { level: 'warn' }) as FastifyBaseLogger });
        const onAcknowledged = (alertId: string) => engine.acknowledged(alertId);
        if (secret) {
          await server.register(ackRoutes, { store, secret, log, now, onAcknowledged });
          await server.register(adminRoutes, { secret, notifier: engine, now });
        }
        await server.register(smsReplyRoutes, {
          store,
          log,
          now,
          roster: () => engine.roster,
          ttlMs: settings.ack.ttl_minutes * 60_000,
          ...(settings.ack.reply_token ? { token: settings.ack.reply_token } : {}),
          ...(httpSecret ? { httpSecret } : {}),
          onAcknowledged,
        });
        ackUrl = await server.listen({ host: settings.ack.host, port: settings.ack.port });
        log.info({ url: ackUrl, public: settings.public_url }, 'acknowledgement links, SMS replies and drills served');
      }

      const subscribe = async (topic: 'alert_events' | 'operator_notices', group: string, handler: (messages: BusMessage[]) => Promise<void>) => {
        const subscription = await bus.subscribe({
          group,
          topic,
          maxBatchSize: 50,
          onRetry: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs, topic }, 'notifier batch failed; retrying'),
          handler,
        });
        subscription.done.catch((err: unknown) => {
          problem = `the notifier stopped consuming ${topic}: ${(err as Error).message}`;
          log.fatal({ err, topic }, 'notifier subscription ended on a non-retriable error');
        });
        subscriptions.push(subscription);
      };
      await subscribe('alert_events', settings.group, consume('alert event', (v) => AlertEvent.parse(v), (e) => engine.handleEvent(e)));
      await subscribe('operator_notices', `${settings.group}.notices`, consume('operator notice', (v) => OperatorNotice.parse(v), (n) => engine.handleNotice(n)));

      unwatch = watchFiles([settings.roster], reloadRoster, { log, what: 'the duty roster', ...(options.rosterDebounceMillis !== undefined ? { debounceMillis: options.rosterDebounceMillis } : {}) });
      timer = setInterval(tick, settings.tick_seconds * 1000);
      timer.unref();
      log.info({ people: roster.people.length, rotations: roster.rotations.map((r) => r.id), channels: [...senders.keys()] }, 'notifier started');
    },

    health(): RoleHealth {
      if (!started) return { ready: false, detail: 'starting' };
      if (problem?.startsWith('the notifier stopped')) return { ready: false, detail: problem };
      const active = notifier?.activeAlerts.length ?? 0;
      const details = [problem, rosterProblem, active ? `${active} alert(s) being paged or watched` : undefined].filter((d) => d !== undefined);
      return details.length ? { ready: true, detail: details.join('; ') } : { ready: true };
    },

    stop: stopOnce(async () => {
      unwatch?.();
      if (timer) clearInterval(timer);
      await Promise.all(subscriptions.map((s) => s.stop()));
      await ticking;
      await server?.close();
      for (const list of senders.values()) for (const s of list) s.close?.();
    }),
  };
}

export const notifierRoleFactory: RoleFactory = (context) => createNotifierRole(context);
