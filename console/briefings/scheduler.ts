import { stopOnce } from '../../core/lifecycle';
import { topicNames } from '../api/overview';
import type { ConsoleServices } from '../context';
import type { BriefingMeta } from './archive';
import { lastDuePeriod } from './period';
import { BriefingService, MAX_MAIL_ATTEMPTS } from './service';

/**
 * Scheduled briefings (`console.briefings.daily` / `.weekly`): every check asks which period fell
 * due last and makes its briefing unless the archive holds it already, then mails it until it has
 * been sent. Asking "what fell due last" rather than waiting for a clock time is what catches up
 * after a restart, or after the machine slept through 08:00; keying by period is what keeps it to
 * once. Only the latest period of each kind is caught up: after days down, yesterday's 日报 is
 * made, not one for every missed day.
 */

export interface BriefingSchedulerOptions {
  /** How often to look for a briefing that fell due; default 60 000 ms. */
  checkIntervalMs?: number;
  /** Default: one made from the services. */
  service?: BriefingService;
}

export interface BriefingScheduler {
  /** Starts a check at once (the catch-up, without waiting for it), then checks every checkIntervalMs. */
  start(): Promise<void>;
  /** Waits for a check in progress; safe to call twice. */
  stop(): Promise<void>;
  /** One check now: the briefings it made or mailed. Checks never overlap. */
  check(): Promise<BriefingMeta[]>;
}

export function briefingServiceFor(services: Pick<ConsoleServices, 'config' | 'paths' | 'store' | 'log' | 'rules' | 'now'>): BriefingService {
  return new BriefingService({
    config: services.config,
    store: services.store,
    dir: services.paths.briefingsDir,
    log: services.log.child({ component: 'briefings' }),
    now: services.now,
    topicNames: () => topicNames(services),
  });
}

export function createBriefingScheduler(services: Pick<ConsoleServices, 'config' | 'paths' | 'store' | 'log' | 'rules' | 'now'>, options: BriefingSchedulerOptions = {}): BriefingScheduler {
  const { config } = services;
  const settings = config.console.briefings;
  const log = services.log.child({ component: 'briefing-scheduler' });
  const service = options.service ?? briefingServiceFor(services);
  const intervalMs = options.checkIntervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<BriefingMeta[]> | undefined;
  let stopped = false;

  const checkOnce = async (): Promise<BriefingMeta[]> => {
    const touched: BriefingMeta[] = [];
    const schedules = [
      ...(settings.daily.enabled ? [{ kind: 'daily' as const, at: settings.daily.at }] : []),
      ...(settings.weekly.enabled ? [{ kind: 'weekly' as const, at: settings.weekly.at, weekday: settings.weekly.weekday }] : []),
    ];
    for (const schedule of schedules) {
      if (stopped) break;
      const period = lastDuePeriod(schedule, services.now().getTime(), config.console.time_zone);
      try {
        let { meta, created } = await service.generate({ period, by: 'scheduler', scheduled: true });
        const mail = meta.mail;
        const mailing = settings.recipients.length > 0 && !mail?.sent_at && (mail?.attempts ?? 0) < MAX_MAIL_ATTEMPTS;
        if (mailing) {
          try {
            meta = await service.mail(meta);
            log.info({ id: meta.id, to: settings.recipients.length }, 'briefing mailed');
          } catch (err) {
            log.warn({ err, id: meta.id, attempt: (mail?.attempts ?? 0) + 1, of: MAX_MAIL_ATTEMPTS }, 'mailing the briefing failed; will retry at the next check');
            meta = service.archive.get(meta.id) ?? meta;
          }
        }
        if (created || mailing) touched.push(meta);
      } catch (err) {
        log.warn({ err, period: period.key }, 'scheduled briefing failed; will retry at the next check');
      }
    }
    return touched;
  };

  const check = () => {
    running ??= checkOnce().finally(() => (running = undefined));
    return running;
  };

  const loop = () => {
    timer = setTimeout(() => {
      void check().finally(() => {
        if (!stopped) loop();
      });
    }, intervalMs);
    timer.unref();
  };

  return {
    async start() {
      if (stopped || timer) return;
      if (settings.daily.enabled || settings.weekly.enabled) log.info({ daily: settings.daily, weekly: settings.weekly, recipients: settings.recipients.length }, 'briefing scheduler started');
      void check();
      loop();
    },
    stop: stopOnce(async () => {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    }),
    check,
  };
}
