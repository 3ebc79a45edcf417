import { applyAction } from '../alerts/lifecycle';
import { isShaobingError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { withRetry } from '../core/retry';
import { stableId, type Alert, type AlertEvent, type Delivery, type Level, type OperatorNotice } from '../core/records';
import type { Store } from '../store/types';
import { createAckToken } from './ack';
import type { Sender } from './channels';
import { digestMessage, maskRecipient, operatorMessage, pageMessage, resolvedMessage, summaryMessage, type Message } from './messages';
import { DEFAULT_CHANNELS, levelPlan, planSteps, policyFor, resolveTargets, roundKey, type LevelPlan, type NotifyChannel, type Policy, type Step } from './policy';
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
  /** Channels operator messages go through, in failover order; default DEFAULT_CHANNELS (policy.ts). */
  operatorChannels?: readonly NotifyChannel[];
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

interface DigestItem {
  alertId: string;
  title: string;
  topic: string;
  /** When the alert last opened, rose or reopened (its history says): with the id, what a digest carried. */
  at: string;
}

interface DigestBuffer {
  policy: Policy;
  dueAt: number;
  /** One per alert. */
  items: DigestItem[];
}

interface Held {
  title: string;
  level: Level;
  /** The held message's event_id, which the summary's delivery records as carried. */
  eventId: string;
}

/** A delivery's context: the alert it is about, its event_id (and stable key), and what a digest or summary lists. */
interface DeliveryContext {
  alertId: string;
  eventId: string;
  key: string;
  carries?: string[];
}

const HOUR = 3_600_000;
/** How far back a restart looks for escalations in progress (and acknowledged alerts awaiting their "resolved" notice). */
const RESUME_WINDOW_MS = 24 * HOUR;

/**
 * A page's key, which is also its deliveries' event_id: `<alert event id>|<level>|<step>:<round>`.
 * The delivery log then says which rounds of which escalation ran, so a restarted notifier
 * resumes where the last one stopped (alert event ids never contain "|").
 */
export function pageKey(eventId: string, level: Level, step: number, round: number): string {
  return `${eventId}|${level}|${roundKey(step, round)}`;
}

export function parsePageKey(key: string): { eventId: string; level: Level; step: number; round: number } | undefined {
  const m = /^([^|]+)\|([123])\|(\d+):(\d+)$/.exec(key);
  return m ? { eventId: m[1]!, level: Number(m[2]) as Level, step: Number(m[3]), round: Number(m[4]) } : undefined;
}

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
  /** Alert → the latest moment (epoch ms, DigestItem.at) a digest listed: an alert is listed once per opening, rise or reopening. */
  readonly #carried = new Map<string, number>();
  readonly #seen = new Set<string>();
  readonly #lastPaged = new Map<string, number>();
  readonly #sentAt = new Map<string, number[]>();
  readonly #held = new Map<string, Held[]>();
  #roster: Roster;

  constructor(options: NotifierOptions) {
    this.#o = {
      policies: {},
      log: silentLogger,
      now: Date.now,
      realertMs: 30 * 60_000,
      perPersonPerHour: 20,
      operators: [],
      operatorChannels: DEFAULT_CHANNELS,
      retryDelayMs: { initial: 500, max: 5_000 },
      ...options,
    };
    this.#roster = options.roster;
  }

  /** A new roster (the file changed): later rounds use it. */
  setRoster(roster: Roster): void {
    this.#roster = roster;
  }

  get roster(): Roster {
    return this.#roster;
  }

  /**
   * Rebuilds the escalations a previous process left in progress, from the delivery log of the last
   * 24 hours: which event of which alert was paged, at which level, which rounds ran and when.
   * The next tick then sends the next round when it falls due, sends nothing for an alert acknowledged
   * meanwhile, and the "resolved" notice for one closed meanwhile. Returns the alerts resumed.
   */
  async resume(): Promise<string[]> {
    const from = new Date(this.#o.now() - RESUME_WINDOW_MS).toISOString();
    const log: Delivery[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.#o.store.searchDeliveries({ time: { from }, order: 'desc', size: 1000, offset });
      log.push(...page.items);
      if (page.items.length < 1000 || offset >= 9000) break;
    }
    const alertIds = new Set(log.filter((d) => parsePageKey(d.event_id)).map((d) => d.alert_id));
    const resumed: string[] = [];
    for (const alertId of alertIds) {
      if (this.#episodes.has(alertId)) continue;
      const episode = await this.#rebuild(alertId);
      if (episode) resumed.push(alertId);
    }
    if (resumed.length) this.#o.log.info({ alerts: resumed }, 'escalations resumed from the delivery log');
    this.#rebuildCap(log);
    await this.#rebuildHeld(log);
    await this.#rebuildDigests(log, from);
    return resumed;
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
    this.#remember(event.id);
    if (this.#episodes.get(event.alert_id)?.eventId === event.id) return log.info('event already being escalated (resumed after a restart); ignored');
    if (event.type !== 'resolved' && (await this.#rebuild(event.alert_id, event.id))) {
      return log.info('event paged before a restart; its escalation resumed');
    }
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
      const at = digestMoment(alert)?.at ?? event.at;
      if ((this.#carried.get(alert.id) ?? -Infinity) >= Date.parse(at)) return log.info('already listed in a digest (before a restart); not listed again');
      const buffer = this.#queueDigest(policy, { alertId: event.alert_id, title: event.title, topic: event.topic, at }, now + plan.digest.every_minutes * 60_000);
      return log.info({ due: new Date(buffer.dueAt).toISOString() }, 'added to the 三级 digest');
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

  /**
   * A collector's operator notice, told to the operators once per notice id, even across restarts
   * (the delivery log remembers). A `source_recovered` closes the source's failure notice: it is
   * told only when a failure of that source was told and not yet closed. The deliveries of a
   * source's notices share the alert_id `source:<name>`, so its latest one says whether it is open.
   */
  async handleNotice(notice: OperatorNotice): Promise<'told' | 'repeated' | 'not-open'> {
    const log = this.#o.log.child({ notice: notice.id, source: notice.source });
    const key = `notice:${notice.kind}:${notice.id}`;
    if (!this.#seen.has(key)) await this.#o.store.refresh();
    if (this.#seen.has(key) || (await this.#o.store.searchDeliveries({ event_id: [key], size: 1 })).total > 0) {
      this.#remember(key);
      log.debug('operator notice told before; not re-sent');
      return 'repeated';
    }
    this.#remember(key);
    const thread = `source:${notice.source}`;
    if (notice.kind === 'source_recovered') {
      const latest = (await this.#o.store.searchDeliveries({ alert_id: [thread], order: 'desc', size: 1 })).items[0];
      if (!latest || latest.event_id.startsWith('notice:source_recovered:')) {
        log.info('source recovered, but no failure of it was told; nothing to close');
        return 'not-open';
      }
    }
    await this.#tellOperators(notice.message, key, thread, notice.kind === 'source_recovered');
    return 'told';
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
    const steps = drillSteps(levelPlan(policy, level));
    const episode: Episode = {
      alertId: id, eventId: `${id}:drill`, topic: 'drill', title: alert.title, level, policy, steps,
      startedAt: this.#o.now(), done: new Set(), paged: new Map(), escalated: false, drill: true, informOnly: false,
    };
    this.#episodes.set(id, episode);
    await this.#runEpisode(episode, alert);
    return alert;
  }

  /** Closes a drill's alert ("演练结束") and drops its escalation without a "resolved" notice: a drill ends, nothing was resolved. */
  async endDrill(alertId: string): Promise<void> {
    this.#episodes.delete(alertId);
    await withRetry(
      async () => {
        const current = await this.#o.store.getAlert(alertId);
        if (!current || current.value.status === 'closed') return;
        await this.#o.store.updateAlert(applyAction(current.value, { action: 'close', by: 'system', at: new Date(this.#o.now()).toISOString(), note: '演练结束' }), current.version);
      },
      { maxAttempts: 5, initialDelayMs: 20, maxDelayMs: 500, shouldRetry: (err) => isShaobingError(err, 'SB_STORE_CONFLICT') || isShaobingError(err, 'SB_STORE_UNAVAILABLE') },
    );
  }

  /** A drill alert's status, or undefined when there is no such drill. */
  async drillStatus(alertId: string): Promise<Alert['status'] | undefined> {
    const alert = (await this.#o.store.getAlert(alertId))?.value;
    return alert?.topic === 'drill' ? alert.status : undefined;
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

  /**
   * An alert's episode as its delivery log records it: the latest event paged (or the one named),
   * its level, which rounds ran, and when the escalation started (each round's send time less its
   * offset in the plan). Undefined when nothing was paged for it or its "resolved" notice went out.
   */
  async #rebuild(alertId: string, eventId?: string): Promise<Episode | undefined> {
    const deliveries = (await this.#o.store.searchDeliveries({ alert_id: [alertId], order: 'asc', size: 1000 })).items;
    if (deliveries.some((d) => d.event_id === resolvedKey(alertId))) return undefined;
    const pages = deliveries.flatMap((d) => {
      const key = parsePageKey(d.event_id);
      return key ? [{ d, key }] : [];
    });
    const last = pages.filter((p) => !eventId || p.key.eventId === eventId).at(-1);
    if (!last) return undefined;
    const alert = (await this.#o.store.getAlert(alertId))?.value;
    if (!alert) return undefined;
    const { eventId: id, level } = last.key;
    const drill = id.endsWith(':drill');
    const policy = policyFor(this.#o.policies, alert.policy);
    const plan = levelPlan(policy, level);
    const steps = drill ? drillSteps(plan) : 'steps' in plan ? plan.steps : [];
    let startedAt = Infinity;
    const done = new Set<string>();
    for (const { d, key } of pages) {
      const step = steps[key.step];
      // Rounds of other events or levels, or of steps a changed policy no longer has, say nothing about this one.
      if (key.eventId !== id || key.level !== level || !step) continue;
      done.add(roundKey(key.step, key.round));
      const offset = (step.after_minutes + key.round * (step.repeat_every_minutes ?? 0)) * 60_000;
      startedAt = Math.min(startedAt, Date.parse(d.at) - d.latency_ms - offset);
    }
    if (!Number.isFinite(startedAt)) return undefined;
    const paged = new Map<string, NotifyChannel | undefined>();
    for (const { d } of pages) {
      if (d.status === 'sent') paged.set(d.person, d.channel);
      else if (!paged.has(d.person)) paged.set(d.person, undefined);
    }
    const episode: Episode = {
      alertId, eventId: id, topic: alert.topic, title: alert.title, level, policy, steps, startedAt, done, paged,
      escalated: id.includes(':escalated:'), drill, informOnly: false,
    };
    this.#episodes.set(alertId, episode);
    this.#lastPaged.set(alertId, Date.parse(last.d.at));
    return episode;
  }

  /** The hourly cap counts what was sent in the last hour before a restart too: one `sent` delivery is one message delivered. */
  #rebuildCap(log: readonly Delivery[]): void {
    const cutoff = this.#o.now() - HOUR;
    for (const d of log) {
      const at = Date.parse(d.at);
      if (d.status === 'sent' && at > cutoff) this.#sentAt.set(d.person, [...(this.#sentAt.get(d.person) ?? []), at]);
    }
  }

  /** Messages held by the hourly cap that no summary has listed yet wait for the next summary again. */
  async #rebuildHeld(log: readonly Delivery[]): Promise<void> {
    const summarised = new Set(log.filter((d) => d.alert_id === 'summary').flatMap((d) => (d.carries ?? []).map((c) => `${d.person}\u0000${c}`)));
    const pending = new Map<string, Held>();
    for (const d of [...log].reverse()) {
      const key = `${d.person}\u0000${d.event_id}`;
      if (d.status !== 'held' || summarised.has(key) || pending.has(key)) continue;
      const title = (await this.#o.store.getAlert(d.alert_id))?.value.title ?? d.alert_id;
      pending.set(key, { title, level: parsePageKey(d.event_id)?.level ?? 3, eventId: d.event_id });
      this.#held.set(d.person, [...(this.#held.get(d.person) ?? []), pending.get(key)!]);
    }
    if (pending.size) this.#o.log.info({ held: pending.size }, 'messages held for the hourly summary restored from the delivery log');
  }

  /**
   * The 三级 digests a previous process was collecting: alerts not closed whose latest opening, rise
   * or reopening (since `from`) is at a digest level of their policy and later than anything a sent
   * digest listed for them (the digest deliveries' `carries`). Each falls due when it would have at
   * the latest (the alert's time plus the interval), at once when that has passed.
   */
  async #rebuildDigests(log: readonly Delivery[], from: string): Promise<void> {
    for (const d of log) {
      if (d.alert_id !== 'digest') continue;
      for (const c of d.carries ?? []) {
        const at = c.lastIndexOf('@');
        const alertId = c.slice(0, at);
        this.#carried.set(alertId, Math.max(this.#carried.get(alertId) ?? -Infinity, Date.parse(c.slice(at + 1))));
      }
    }
    const restored: Array<{ policy: Policy; item: DigestItem; dueAt: number }> = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.#o.store.searchAlerts({ time: { from }, status: ['open', 'acknowledged'], size: 1000, offset });
      for (const { value: alert } of page.items) {
        const moment = digestMoment(alert);
        const at = moment ? Date.parse(moment.at) : NaN;
        if (!moment || alert.topic === 'drill' || !(at >= Date.parse(from)) || (this.#carried.get(alert.id) ?? -Infinity) >= at) continue;
        const policy = policyFor(this.#o.policies, alert.policy);
        const plan = levelPlan(policy, moment.level);
        if (!('digest' in plan)) continue;
        restored.push({ policy, item: { alertId: alert.id, title: alert.title, topic: alert.topic, at: moment.at }, dueAt: at + plan.digest.every_minutes * 60_000 });
      }
      if (page.items.length < 1000 || offset >= 9000) break;
    }
    // In the order they happened, as the digest would have listed them.
    for (const r of restored.sort((a, b) => a.dueAt - b.dueAt)) this.#queueDigest(r.policy, r.item, r.dueAt);
    if (restored.length) this.#o.log.info({ alerts: restored.length }, '三级 digest items restored from the alerts and the delivery log');
  }

  /** Adds an alert to its policy's digest, once (a later event of the same alert replaces its line); due at `dueAt` or earlier. */
  #queueDigest(policy: Policy, item: DigestItem, dueAt: number): DigestBuffer {
    const buffer = this.#digests.get(policy) ?? { policy, dueAt, items: [] };
    buffer.dueAt = Math.min(buffer.dueAt, dueAt);
    const index = buffer.items.findIndex((i) => i.alertId === item.alertId);
    if (index >= 0) buffer.items[index] = item;
    else buffer.items.push(item);
    this.#digests.set(policy, buffer);
    return buffer;
  }

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
          const key = pageKey(episode.eventId, episode.level, due.step, due.round);
          const ctx = { alertId: episode.alertId, eventId: key, key };
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
        this.#deliver(id, channel ? [channel] : ['sms', 'email'], message, { alertId: episode.alertId, eventId: resolvedKey(episode.alertId), key: resolvedKey(episode.alertId) }),
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
      const carries = buffer.items.map((i) => `${i.alertId}@${i.at}`);
      for (const i of buffer.items) this.#carried.set(i.alertId, Math.max(this.#carried.get(i.alertId) ?? -Infinity, Date.parse(i.at)));
      const key = `digest:${stableId(...carries)}`;
      // Never held by the hourly cap: a digest is already the summary of its alerts.
      await Promise.all(people.map((id) => this.#deliver(id, digest.channels, digestMessage(buffer.items), { alertId: 'digest', eventId: key, key, carries })));
    }
  }

  async #flushSummaries(): Promise<void> {
    for (const [id, held] of [...this.#held.entries()]) {
      if (held.length === 0 || this.#sentInLastHour(id) >= this.#o.perPersonPerHour) continue;
      this.#held.delete(id);
      const carries = held.map((h) => h.eventId);
      const key = `summary:${id}:${stableId(...carries)}`;
      await this.#deliver(id, DEFAULT_CHANNELS, summaryMessage(held), { alertId: 'summary', eventId: key, key, carries });
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
  async #deliverCapped(person: string, channels: readonly NotifyChannel[], message: Message, ctx: DeliveryContext): Promise<DeliveryResult> {
    if (message.level !== 1 && message.kind !== 'drill' && this.#sentInLastHour(person) >= this.#o.perPersonPerHour) {
      this.#held.set(person, [...(this.#held.get(person) ?? []), { title: message.title, level: message.level, eventId: ctx.eventId }]);
      this.#o.log.info({ person, held: this.#held.get(person)!.length }, 'hourly cap reached; message held for the summary');
      // Recorded, so a restart still summarises it, and resumes the escalation past this round.
      const held: Delivery = {
        id: stableId(ctx.key, person, 'held'),
        alert_id: ctx.alertId,
        event_id: ctx.eventId,
        person,
        channel: channels[0]!,
        recipient: '',
        attempt: 1,
        status: 'held',
        error: `hourly cap of ${this.#o.perPersonPerHour} reached; held for the summary`,
        latency_ms: 0,
        at: new Date(this.#o.now()).toISOString(),
      };
      await this.#o.store.putDeliveries([held]).catch((err: unknown) => this.#o.log.error({ err, person }, 'held message not recorded'));
      return { person, ok: false };
    }
    return this.#deliver(person, channels, message, ctx);
  }

  /** Every channel (SMS and a voice call); reached when any got through; the operators hear only when none did. */
  async #deliverEach(person: string, channels: readonly NotifyChannel[], message: Message, ctx: DeliveryContext): Promise<DeliveryResult> {
    const results = await Promise.all(channels.map((c) => this.#deliver(person, [c], message, ctx, { quiet: true })));
    const ok = results.find((r) => r.ok);
    if (ok) return ok;
    const why = results.map((r) => r.why).join('; ');
    this.#o.log.error({ person, kind: message.kind, why }, 'nothing reached this person');
    await this.#tellOperators(`通知 ${personById(this.#roster, person)?.name ?? person} 失败（${message.title}）：${why}`, `failed:${ctx.key}:${person}`, 'operator');
    return { person, ok: false, why };
  }

  /** Each channel in turn, each sender of it in turn, each with its retries; every attempt logged. */
  async #deliver(personId: string, channels: readonly NotifyChannel[], message: Message, ctx: DeliveryContext, options: { quiet?: boolean } = {}): Promise<DeliveryResult> {
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
      // Once the delivery log write has finished: unless it failed (logged above), a restart from here on does not repeat this round.
      log.info({ channel: reached, kind: message.kind }, 'delivered');
      this.#sentAt.set(personId, [...(this.#sentAt.get(personId) ?? []), this.#o.now()]);
      return { person: personId, ok: true, channel: reached };
    }
    const why = !person ? `${personId} is not in the roster` : failures.length ? failures.join('; ') : `no channel of [${channels.join(', ')}] is configured with an address for ${personId}`;
    if (options.quiet) return { person: personId, ok: false, why };
    log.error({ kind: message.kind, why }, 'nothing reached this person');
    if (message.kind !== 'operator') {
      await this.#tellOperators(`通知 ${person?.name ?? personId} 失败（${message.title}）：${why}`, `failed:${ctx.key}:${personId}`, 'operator');
    }
    return { person: personId, ok: false, why };
  }

  async #attempt(sender: Sender, person: Person, address: string, message: Message, ctx: DeliveryContext, deliveries: Delivery[], failures: string[]): Promise<boolean> {
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
        ...(ctx.carries ? { carries: ctx.carries } : {}),
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

  async #tellOperators(text: string, key: string, alertId: string, recovered = false): Promise<void> {
    const operators = this.#o.operators;
    if (operators.length === 0) return this.#o.log.warn({ text }, 'operator alert with no operators configured (notify.operators)');
    const message = operatorMessage(text, recovered);
    await Promise.all(operators.map((id) => this.#deliver(id, this.#o.operatorChannels, message, { alertId, eventId: key, key })));
  }

  #remember(id: string): void {
    this.#seen.add(id);
    // Bounded: redeliveries come soon after the original; the delivery log covers restarts.
    if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.values().next().value!);
  }
}

/**
 * When the alert last opened, rose or reopened, and at which level (its history says; each is an
 * alert event, stamped with the same time): the moment a digest lists it for.
 */
function digestMoment(alert: Alert): { at: string; level: Level } | undefined {
  let level: Level | undefined;
  let moment: { at: string; level: Level } | undefined;
  for (const h of alert.history) {
    level = h.to_level ?? level;
    // A reopening that also rose is one event at the new level, and its two entries share their time.
    if (h.action === 'opened' || h.action === 'escalated' || h.action === 'reopened' || h.at === moment?.at) moment = { at: h.at, level: level ?? alert.level };
  }
  return moment;
}

function resolvedKey(alertId: string): string {
  return `${alertId}:resolved`;
}

/** A 三级 drill is sent straight away as its digest would be, instead of waiting half an hour. */
function drillSteps(plan: LevelPlan): Step[] {
  return 'steps' in plan ? plan.steps : [{ after_minutes: 0, notify: plan.digest.notify, channels: plan.digest.channels, all_channels: false, max_rounds: 1 }];
}
