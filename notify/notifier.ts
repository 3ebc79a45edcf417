import { isShaobingError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { withRetry } from '../core/retry';
import { stableId, type Alert, type AlertEvent, type Delivery, type Level, type OperatorNotice } from '../core/records';
import type { Store } from '../store/types';
import { createAckToken } from './ack';
import type { Sender } from './channels';
import { digestMessage, maskRecipient, operatorMessage, pageMessage, resolvedMessage, summaryMessage, type Message } from './messages';
import { levelPlan, planSteps, policyFor, resolveTargets, roundKey, type NotifyChannel, type Policy, type Step } from './policy';
import { personById, type Person, type Roster } from './roster';
import { localTime, parseClock } from '../core/time';

/**
 * The engine of the notifier role, apart from the bus and the timer so tests drive it with a clock
 * they pass in: `handleEvent` for each alert event, `tick` whenever time has moved. It pages by the
 * policy, re-reads the alert before each round (an acknowledgement stops the escalation for
 * everyone), fails over from channel to channel, logs every attempt as a Delivery, and tells the
 * operators when nothing reached someone.
 */

export interface NotifierOptions {
  store: Store;
  roster: Roster;
  /** By name; `default` built in when absent. */
  policies?: Record<string, Policy>;
  senders: Map<NotifyChannel, Sender[]>;
  log?: Logger;
  /** Default Date.now. */
  now?: () => number;
  /** Without it messages carry no acknowledgement link. */
  ack?: { secret: string; publicUrl: string; ttlMs: number };
  /** A reopened alert within this long of its last page is not paged again; default 30 min. */
  realertMs?: number;
  /** 二级/三级 messages per person per hour before they are held for a summary; default 20. */
  perPersonPerHour?: number;
  /** Local times (roster zone) between which 三级 digests wait. */
  quietHours?: { from: string; to: string };
  /** Roster ids told when every channel failed for someone, and of operator notices. */
  operators?: string[];
  /** Backoff between attempts on one sender; default 500 ms doubling to 5 s. */
  retryDelayMs?: { initial: number; max: number };
}

interface Episode {
  alertId: string;
  eventId: string;
  topic: string;
  title: string;
  level: Level;
  policy: Policy;
  steps: Step[];
  startedAt: number;
  done: Set<string>;
  /** Person → the channel that reached them, for the resolved notice. */
  paged: Map<string, NotifyChannel | undefined>;
  escalated: boolean;
  drill: boolean;
  /** A level rise on an acknowledged alert: told once, not paged until acknowledged again. */
  informOnly: boolean;
}

interface DigestBuffer {
  policy: Policy;
  dueAt: number;
  items: Array<{ alertId: string; title: string; topic: string; eventId: string }>;
}

const DEFAULT_CHANNELS: NotifyChannel[] = ['sms', 'email', 'wecom', 'dingtalk', 'feishu', 'webhook'];
const HOUR = 3_600_000;

export interface DeliveryResult {
  person: string;
  ok: boolean;
  channel?: NotifyChannel;
  /** Why nobody was reached, when ok is false. */
  why?: string;
}

export class Notifier {
  readonly #o: Required<Omit<NotifierOptions, 'ack' | 'quietHours'>> & Pick<NotifierOptions, 'ack' | 'quietHours'>;
  readonly #episodes = new Map<string, Episode>();
  readonly #digests = new Map<Policy, DigestBuffer>();
  readonly #seen = new Set<string>();
  readonly #lastPaged = new Map<string, number>();
  readonly #sentAt = new Map<string, number[]>();
  readonly #held = new Map<string, Array<{ title: string; level: Level }>>();
  #roster: Roster;

  constructor(options: NotifierOptions) {
    this.#o = {
      policies: {},
      log: silentLogger,
      now: Date.now,
      realertMs: 30 * 60_000,
      perPersonPerHour: 20,
      operators: [],
      retryDelayMs: { initial: 500, max: 5_000 },
      ...options,
    };
    this.#roster = options.roster;
  }

  /** A new roster (the file changed): later rounds use it. */
  setRoster(roster: Roster): void {
    this.#roster = roster;
  }

  /** Alerts being paged or watched, for health and tests. */
  get activeAlerts(): string[] {
    return [...this.#episodes.keys()];
  }

  /** When the next round or digest falls due, so the role can sleep until then (bounded by its tick). */
  nextDueAt(): number | undefined {
    const now = this.#o.now();
    const times: number[] = [...this.#digests.values()].map((d) => d.dueAt);
    for (const e of this.#episodes.values()) {
      const next = planSteps(e.steps, e.startedAt, e.done, now).nextAt;
      if (next !== undefined) times.push(next);
    }
    return times.length ? Math.min(...times) : undefined;
  }

  async handleEvent(event: AlertEvent): Promise<void> {
    const log = this.#o.log.child({ event: event.id });
    if (this.#seen.has(event.id)) return log.debug('event seen before; ignored');
    if ((await this.#o.store.searchDeliveries({ event_id: [event.id], size: 1 })).total > 0) {
      this.#remember(event.id);
      return log.info('event handled before a restart (deliveries exist); ignored');
    }
    this.#remember(event.id);
    const now = this.#o.now();

    if (event.type === 'resolved') {
      const episode = this.#episodes.get(event.alert_id);
      if (episode) await this.#resolve(episode);
      return;
    }
    const alert = (await this.#o.store.getAlert(event.alert_id))?.value;
    if (!alert || alert.status === 'closed') return log.info({ status: alert?.status }, 'alert gone or closed; nothing to send');
    const policy = policyFor(this.#o.policies, event.policy ?? alert.policy);
    const plan = levelPlan(policy, event.level);

    if (event.type === 'reopened') {
      const last = this.#lastPaged.get(event.alert_id);
      if (last !== undefined && now - last < this.#o.realertMs) return log.info('reopened within the re-alert window; not paged again');
    }

    if ('digest' in plan) {
      const buffer = this.#digests.get(policy) ?? { policy, dueAt: now + plan.digest.every_minutes * 60_000, items: [] };
      buffer.items.push({ alertId: event.alert_id, title: event.title, topic: event.topic, eventId: event.id });
      this.#digests.set(policy, buffer);
      return log.debug({ due: new Date(buffer.dueAt).toISOString() }, 'added to the 三级 digest');
    }

    const previous = this.#episodes.get(event.alert_id);
    const informOnly = alert.status === 'acknowledged';
    const episode: Episode = {
      alertId: event.alert_id,
      eventId: event.id,
      topic: event.topic,
      title: event.title,
      level: event.level,
      policy,
      steps: informOnly ? [{ ...plan.steps[0]!, repeat_every_minutes: undefined, max_rounds: 1 }] : plan.steps,
      startedAt: now,
      done: new Set(),
      paged: previous?.paged ?? new Map(),
      escalated: event.type === 'escalated',
      drill: false,
      informOnly,
    };
    this.#episodes.set(event.alert_id, episode);
    await this.#runEpisode(episode, alert);
  }

  /** A collector's operator notice: told to the operators once per notice id. */
  async handleNotice(notice: OperatorNotice): Promise<void> {
    if (this.#seen.has(notice.id)) return;
    this.#remember(notice.id);
    await this.#tellOperators(notice.message, `notice:${notice.id}`);
  }

  /** Does whatever has fallen due: escalation rounds, digests, held summaries. Never throws for one alert's trouble. */
  async tick(): Promise<void> {
    for (const episode of [...this.#episodes.values()]) {
      try {
        const alert = (await this.#o.store.getAlert(episode.alertId))?.value;
        await this.#runEpisode(episode, alert);
      } catch (err) {
        this.#o.log.error({ err, alert: episode.alertId }, 'escalation round failed; retried at the next tick');
      }
    }
    await this.#flushDigests();
    await this.#flushSummaries();
  }

  /**
   * 应急演练: a clearly marked alert of the level through the whole chain. The alert is stored (so
   * its link acknowledges it like any other) and closed by `endDrill`.
   */
  async startDrill(level: Level, policyName?: string): Promise<Alert> {
    const at = new Date(this.#o.now()).toISOString();
    const id = stableId('drill', at, String(level));
    const alert: Alert = {
      id,
      topic: 'drill',
      topic_name: '应急演练',
      cluster_id: id,
      ...(policyName ? { policy: policyName } : {}),
      level,
      status: 'open',
      title: `应急演练（${level}级）${at.slice(0, 16).replace('T', ' ')}`,
      first_seen_at: at,
      last_seen_at: at,
      opened_at: at,
      updated_at: at,
      doc_count: 0,
      sources: [],
      platforms: [],
      total_reposts: 0,
      history: [{ at, action: 'opened', by: 'system', note: 'drill' }],
    };
    await this.#o.store.createAlert(alert);
    const policy = policyFor(this.#o.policies, policyName);
    const plan = levelPlan(policy, level);
    // A 三级 drill is sent straight away as its digest would be, instead of waiting half an hour.
    const steps: Step[] = 'steps' in plan ? plan.steps : [{ after_minutes: 0, notify: plan.digest.notify, channels: plan.digest.channels, all_channels: false, max_rounds: 1 }];
    const episode: Episode = {
      alertId: id, eventId: `${id}:drill`, topic: 'drill', title: alert.title, level, policy, steps,
      startedAt: this.#o.now(), done: new Set(), paged: new Map(), escalated: false, drill: true, informOnly: false,
    };
    this.#episodes.set(id, episode);
    await this.#runEpisode(episode, alert);
    return alert;
  }

  /** Per person: time to the first delivered message and, for whoever acknowledged, time to acknowledge. */
  async drillReport(alertId: string): Promise<Array<{ person: string; name: string; delivered_ms?: number; channel?: string; acknowledged_ms?: number; failed_attempts: number }>> {
    const alert = (await this.#o.store.getAlert(alertId))?.value;
    if (!alert) return [];
    await this.#o.store.refresh();
    const deliveries = (await this.#o.store.searchDeliveries({ alert_id: [alertId], order: 'asc', size: 1000 })).items;
    const start = Date.parse(alert.opened_at);
    const ack = alert.history.find((h) => h.action === 'acknowledged');
    const people = [...new Set(deliveries.map((d) => d.person))];
    return people.map((id) => {
      const mine = deliveries.filter((d) => d.person === id);
      const first = mine.find((d) => d.status === 'sent');
      return {
        person: id,
        name: personById(this.#roster, id)?.name ?? id,
        ...(first ? { delivered_ms: Date.parse(first.at) - start, channel: first.channel } : {}),
        ...(ack && ack.by === id ? { acknowledged_ms: Date.parse(ack.at) - start } : {}),
        failed_attempts: mine.filter((d) => d.status === 'failed').length,
      };
    });
  }

  /** Stops paging an alert now (an acknowledgement just arrived by link); the next tick would find it anyway. */
  acknowledged(alertId: string): void {
    const episode = this.#episodes.get(alertId);
    if (episode && !episode.informOnly) {
      // Kept for the resolved notice, but with nothing left to send.
      episode.steps = [];
    }
  }

  // ------------------------------------------------------------ internals

  async #runEpisode(episode: Episode, alert: Alert | undefined): Promise<void> {
    const log = this.#o.log.child({ alert: episode.alertId });
    if (!alert || alert.status === 'closed') return this.#resolve(episode, alert);
    if (alert.status === 'acknowledged' && !episode.informOnly) {
      if (episode.steps.length > 0) {
        const by = [...alert.history].reverse().find((h) => h.action === 'acknowledged');
        log.info({ by: by?.by, via: by?.via }, 'acknowledged; escalation stopped for everyone');
        episode.steps = [];
      }
      return;
    }
    const now = this.#o.now();
    const plan = planSteps(episode.steps, episode.startedAt, episode.done, now);
    for (const due of plan.due) {
      episode.done.add(roundKey(due.step, due.round));
      const step = episode.steps[due.step]!;
      const people = resolveTargets(step.notify, this.#roster, now, episode.policy.rotation);
      if (people.length === 0) log.warn({ step: due.step, targets: step.notify }, 'the step names nobody in the roster at this time');
      log.info({ step: due.step, round: due.round, people, level: episode.level }, 'paging');
      await Promise.all(
        people.map(async (id) => {
          const message = this.#pageFor(episode, id);
          const ctx = { alertId: episode.alertId, eventId: episode.eventId, key: `${episode.eventId}|${due.step}:${due.round}` };
          const result = step.all_channels ? await this.#deliverEach(id, step.channels, message, ctx) : await this.#deliverCapped(id, step.channels, message, ctx);
          if (result.ok || !episode.paged.has(id)) episode.paged.set(id, result.channel);
        }),
      );
      this.#lastPaged.set(episode.alertId, now);
    }
  }

  #pageFor(episode: Episode, person: string): Message {
    const ack = this.#o.ack;
    const link = ack
      ? `${ack.publicUrl.replace(/\/$/, '')}/ack/${createAckToken({ alertId: episode.alertId, person, expiresAt: this.#o.now() + ack.ttlMs }, ack.secret)}`
      : undefined;
    return pageMessage({
      level: episode.level,
      title: episode.title,
      topic: episode.topic,
      alertId: episode.alertId,
      ...(link ? { link } : {}),
      drill: episode.drill,
      escalated: episode.escalated,
    });
  }

  async #resolve(episode: Episode, alert?: Alert): Promise<void> {
    this.#episodes.delete(episode.alertId);
    const closed = alert ? [...alert.history].reverse().find((h) => h.action === 'closed') : undefined;
    const message = resolvedMessage({ level: episode.level, title: episode.title, alertId: episode.alertId, ...(closed ? { by: closed.by } : {}) });
    await Promise.all(
      [...episode.paged.entries()].map(([id, channel]) =>
        this.#deliver(id, channel ? [channel] : ['sms', 'email'], message, { alertId: episode.alertId, eventId: `${episode.alertId}:resolved`, key: `${episode.alertId}:resolved` }),
      ),
    );
  }

  async #flushDigests(): Promise<void> {
    const now = this.#o.now();
    for (const [policy, buffer] of [...this.#digests.entries()]) {
      if (now < buffer.dueAt || this.#quiet(now)) continue;
      this.#digests.delete(policy);
      const plan = levelPlan(policy, 3);
      const digest = 'digest' in plan ? plan.digest : { notify: ['duty'], channels: DEFAULT_CHANNELS };
      const people = resolveTargets(digest.notify, this.#roster, now, policy.rotation);
      const key = `digest:${stableId(...buffer.items.map((i) => i.eventId))}`;
      await Promise.all(people.map((id) => this.#deliverCapped(id, digest.channels, digestMessage(buffer.items), { alertId: 'digest', eventId: key, key })));
    }
  }

  async #flushSummaries(): Promise<void> {
    for (const [id, held] of [...this.#held.entries()]) {
      if (held.length === 0 || this.#sentInLastHour(id) >= this.#o.perPersonPerHour) continue;
      this.#held.delete(id);
      const key = `summary:${id}:${this.#o.now()}`;
      await this.#deliver(id, DEFAULT_CHANNELS, summaryMessage(held), { alertId: 'summary', eventId: key, key });
    }
  }

  #quiet(now: number): boolean {
    const q = this.#o.quietHours;
    if (!q) return false;
    const t = localTime(now, this.#roster.time_zone);
    const minute = t.hour * 60 + t.minute;
    const from = parseClock(q.from);
    const to = parseClock(q.to);
    return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
  }

  #sentInLastHour(person: string): number {
    const cutoff = this.#o.now() - HOUR;
    const times = (this.#sentAt.get(person) ?? []).filter((t) => t > cutoff);
    this.#sentAt.set(person, times);
    return times.length;
  }

  /** 一级 is never held back; above the hourly cap, 二级 and 三级 wait for a summary. */
  async #deliverCapped(person: string, channels: readonly NotifyChannel[], message: Message, ctx: { alertId: string; eventId: string; key: string }): Promise<DeliveryResult> {
    if (message.level !== 1 && message.kind !== 'drill' && this.#sentInLastHour(person) >= this.#o.perPersonPerHour) {
      this.#held.set(person, [...(this.#held.get(person) ?? []), { title: message.title, level: message.level }]);
      this.#o.log.info({ person, held: this.#held.get(person)!.length }, 'hourly cap reached; message held for the summary');
      return { person, ok: false };
    }
    return this.#deliver(person, channels, message, ctx);
  }

  /** Every channel (SMS and a voice call); reached when any got through; the operators hear only when none did. */
  async #deliverEach(person: string, channels: readonly NotifyChannel[], message: Message, ctx: { alertId: string; eventId: string; key: string }): Promise<DeliveryResult> {
    const results = await Promise.all(channels.map((c) => this.#deliver(person, [c], message, ctx, { quiet: true })));
    const ok = results.find((r) => r.ok);
    if (ok) return ok;
    const why = results.map((r) => r.why).join('; ');
    this.#o.log.error({ person, kind: message.kind, why }, 'nothing reached this person');
    await this.#tellOperators(`通知 ${personById(this.#roster, person)?.name ?? person} 失败（${message.title}）：${why}`, `failed:${ctx.key}:${person}`);
    return { person, ok: false, why };
  }

  /** Each channel in turn, each sender of it in turn, each with its retries; every attempt logged. */
  async #deliver(personId: string, channels: readonly NotifyChannel[], message: Message, ctx: { alertId: string; eventId: string; key: string }, options: { quiet?: boolean } = {}): Promise<DeliveryResult> {
    const log = this.#o.log.child({ person: personId, alert: ctx.alertId });
    const person = personById(this.#roster, personId);
    const deliveries: Delivery[] = [];
    const failures: string[] = [];
    let reached: NotifyChannel | undefined;
    if (person) {
      outer: for (const channel of channels) {
        for (const sender of this.#o.senders.get(channel) ?? []) {
          const address = sender.address(person);
          if (!address) continue;
          const ok = await this.#attempt(sender, person, address, message, ctx, deliveries, failures);
          if (ok) {
            reached = channel;
            break outer;
          }
        }
      }
    }
    if (deliveries.length > 0) {
      await this.#o.store.putDeliveries(deliveries).catch((err: unknown) => log.error({ err }, 'delivery log not stored'));
    }
    if (reached) {
      this.#sentAt.set(personId, [...(this.#sentAt.get(personId) ?? []), this.#o.now()]);
      return { person: personId, ok: true, channel: reached };
    }
    const why = !person ? `${personId} is not in the roster` : failures.length ? failures.join('; ') : `no channel of [${channels.join(', ')}] is configured with an address for ${personId}`;
    if (options.quiet) return { person: personId, ok: false, why };
    log.error({ kind: message.kind, why }, 'nothing reached this person');
    if (message.kind !== 'operator') {
      await this.#tellOperators(`通知 ${person?.name ?? personId} 失败（${message.title}）：${why}`, `failed:${ctx.key}:${personId}`);
    }
    return { person: personId, ok: false, why };
  }

  async #attempt(sender: Sender, person: Person, address: string, message: Message, ctx: { alertId: string; eventId: string; key: string }, deliveries: Delivery[], failures: string[]): Promise<boolean> {
    const record = (attempt: number, started: number, error?: unknown) => {
      deliveries.push({
        id: stableId(ctx.key, person.id, sender.name, String(attempt)),
        alert_id: ctx.alertId,
        event_id: ctx.eventId,
        person: person.id,
        channel: sender.channel,
        recipient: maskRecipient(address),
        attempt,
        status: error === undefined ? 'sent' : 'failed',
        ...(error === undefined ? {} : { error: `${sender.name}: ${(error as Error).message}`.slice(0, 500) }),
        latency_ms: Math.max(0, performance.now() - started),
        at: new Date(this.#o.now()).toISOString(),
      });
    };
    try {
      await withRetry(
        async (attempt) => {
          const started = performance.now();
          try {
            await sender.send(message, person, AbortSignal.timeout(sender.timeoutMs * 2));
            record(attempt, started);
          } catch (err) {
            record(attempt, started, err);
            throw err;
          }
        },
        {
          maxAttempts: sender.maxAttempts,
          initialDelayMs: this.#o.retryDelayMs.initial,
          maxDelayMs: this.#o.retryDelayMs.max,
          shouldRetry: (err) => isShaobingError(err) && err.retriable,
        },
      );
      return true;
    } catch (err) {
      failures.push(`${sender.name}: ${(err as Error).message}`);
      return false;
    }
  }

  async #tellOperators(text: string, key: string): Promise<void> {
    const operators = this.#o.operators;
    if (operators.length === 0) return this.#o.log.warn({ text }, 'operator alert with no operators configured (notify.operators)');
    const message = operatorMessage(text);
    await Promise.all(operators.map((id) => this.#deliver(id, DEFAULT_CHANNELS, message, { alertId: 'operator', eventId: key, key })));
  }

  #remember(id: string): void {
    this.#seen.add(id);
    // Bounded: redeliveries come soon after the original; the delivery log covers restarts.
    if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.values().next().value!);
  }
}
