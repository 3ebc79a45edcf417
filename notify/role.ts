import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Subscription } from '../bus/types';
import { ShaobingError } from '../core/errors';
import { stopOnce } from '../core/lifecycle';
import { AlertEvent, type OperatorNotice } from '../core/records';
import type { Role, RoleContext, RoleFactory, RoleHealth } from '../daemon/roles';
import { ackRoutes } from './ack';
import { createSenders, type Sender } from './channels';
import { checkPolicy, type NotifyChannel } from './policy';
import { loadRoster } from './roster';
import { Notifier } from './notifier';

export interface NotifierRoleOptions {
  /** Default Date.now (tests pass a clock). */
  now?: () => number;
  /** Backoff between attempts on one sender; default 500 ms doubling to 5 s. */
  retryDelayMs?: { initial: number; max: number };
}

export interface NotifierRole extends Role {
  /** The engine, once started with a roster (for drills and tests). */
  readonly notifier: Notifier | undefined;
  /** Where the acknowledgement links are served, once listening. */
  readonly ackUrl: string | undefined;
  /** A collector's operator notice (the collector role's `notify` hook). */
  notice(notice: OperatorNotice): Promise<void>;
}

/**
 * The `notifier` role: consumes `alert_events` (group `notify.group`), pages by policy until
 * someone acknowledges, and serves the acknowledgement links on `notify.ack.host:port`. Without a
 * roster it idles and says so on /readyz (ready: the rest of the daemon works without it).
 */
export function createNotifierRole(context: RoleContext, options: NotifierRoleOptions = {}): NotifierRole {
  const { config, bus, store, log } = context;
  const settings = config.notify;
  const now = options.now ?? Date.now;
  let notifier: Notifier | undefined;
  let subscription: Subscription | undefined;
  let server: FastifyInstance | undefined;
  let ackUrl: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let senders: Map<NotifyChannel, Sender[]> = new Map();
  let problem: string | undefined;
  let started = false;

  const tick = () => {
    if (!notifier || ticking) return;
    ticking = notifier
      .tick()
      .catch((err: unknown) => log.error({ err }, 'notifier tick failed'))
      .finally(() => (ticking = undefined));
  };

  return {
    name: 'notifier',
    get notifier() {
      return notifier;
    },
    get ackUrl() {
      return ackUrl;
    },

    async start() {
      started = true;
      if (!settings.roster) {
        problem = 'no duty roster configured (notify.roster): alerts are stored but nobody is paged';
        log.warn(problem);
        return;
      }
      const roster = loadRoster(settings.roster);
      const problems = Object.entries(settings.policies).flatMap(([name, p]) => checkPolicy(name, p, roster));
      const unknownOperators = settings.operators.filter((id) => !roster.people.some((p) => p.id === id));
      if (unknownOperators.length) problems.push(`notify.operators: not in the roster: ${unknownOperators.join(', ')}`);
      if (problems.length) throw new ShaobingError('SB_CONFIG_INVALID', problems.join('\n'));

      senders = createSenders(settings.channels, { now });
      const ack = settings.ack.secret && settings.public_url ? { secret: settings.ack.secret, publicUrl: settings.public_url, ttlMs: settings.ack.ttl_minutes * 60_000 } : undefined;
      if (!ack) log.warn('notify.public_url or notify.ack.secret not set: messages carry no acknowledgement link');
      notifier = new Notifier({
        store,
        roster,
        policies: settings.policies,
        senders,
        log,
        now,
        ...(ack ? { ack } : {}),
        realertMs: settings.limits.realert_minutes * 60_000,
        perPersonPerHour: settings.limits.per_person_per_hour,
        ...(settings.quiet_hours ? { quietHours: settings.quiet_hours } : {}),
        operators: settings.operators,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
      });

      if (ack) {
        server = Fastify({ loggerInstance: log.child({ component: 'ack-http' }, { level: 'warn' }) as FastifyBaseLogger });
        const engine = notifier;
        await server.register(ackRoutes, { store, secret: ack.secret, log, now, onAcknowledged: (alertId) => engine.acknowledged(alertId) });
        ackUrl = await server.listen({ host: settings.ack.host, port: settings.ack.port });
        log.info({ url: ackUrl, public: settings.public_url }, 'acknowledgement links served');
      }

      const engine = notifier;
      subscription = await bus.subscribe({
        group: settings.group,
        topic: 'alert_events',
        maxBatchSize: 50,
        onRetry: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs }, 'alert events batch failed; retrying'),
        handler: async (messages) => {
          for (const message of messages) {
            let event: AlertEvent;
            try {
              event = AlertEvent.parse(JSON.parse(message.value.toString('utf8')));
            } catch (err) {
              // A malformed event cannot page anyone; blocking the partition on it would page nobody else either.
              log.error({ err, offset: message.offset }, 'malformed alert event skipped');
              continue;
            }
            await engine.handleEvent(event);
          }
        },
      });
      subscription.done.catch((err: unknown) => {
        problem = `the notifier stopped consuming alert events: ${(err as Error).message}`;
        log.fatal({ err }, 'notifier subscription ended on a non-retriable error');
      });
      timer = setInterval(tick, settings.tick_seconds * 1000);
      timer.unref();
      log.info({ people: roster.people.length, rotations: roster.rotations.map((r) => r.id), channels: [...senders.keys()] }, 'notifier started');
    },

    async notice(notice) {
      if (notifier) await notifier.handleNotice(notice);
      else log.warn({ notice: notice.message }, 'operator notice with no notifier running');
    },

    health(): RoleHealth {
      if (!started) return { ready: false, detail: 'starting' };
      if (problem?.startsWith('the notifier stopped')) return { ready: false, detail: problem };
      if (problem) return { ready: true, detail: problem };
      const active = notifier?.activeAlerts.length ?? 0;
      return active ? { ready: true, detail: `${active} alert(s) being paged or watched` } : { ready: true };
    },

    stop: stopOnce(async () => {
      if (timer) clearInterval(timer);
      await subscription?.stop();
      await ticking;
      await server?.close();
      for (const list of senders.values()) for (const s of list) s.close?.();
    }),
  };
}

export const notifierRoleFactory: RoleFactory = (context) => createNotifierRole(context);
