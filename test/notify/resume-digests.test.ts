import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import type { Alert, AlertEvent, Level } from '../../core/records';
import { createSenders } from '../../notify/channels';
import { ChannelsSchema, NotifySchema } from '../../notify/config';
import { Notifier } from '../../notify/notifier';
import { PolicySchema } from '../../notify/policy';
import { RosterSchema } from '../../notify/roster';
import type { Store } from '../../store/types';
import { busFor, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { startPipelineProcess } from '../support/pipeline-process';
import { alert } from '../support/records';
import { robotMessage, robotServer, ROSTER_YAML, twoStepPolicy, type ProviderServer } from './helpers';

jest.setTimeout(300_000);

const MIN = 60_000;
const roster = RosterSchema.parse(parseYaml(ROSTER_YAML));

/** An alert opened at `at` at its level, as the pipeline writes it, and the event it publishes. */
function opened(key: string, level: Level, at: number): { alert: Alert; event: AlertEvent } {
  const iso = new Date(at).toISOString();
  const a = alert({ key, level, title: `警情 ${key}`, opened_at: iso, last_seen_at: iso, history: [{ at: iso, action: 'opened', by: 'system', to_level: level }] });
  return { alert: a, event: { id: `${a.id}:opened`, type: 'opened', alert_id: a.id, topic: a.topic, title: a.title, level, at: iso } };
}

/** The alert titles each digest the robot received listed, in order. */
function digests(robot: ProviderServer): string[][] {
  return robot.received
    .map((r) => robotMessage(r).text)
    .filter((t) => t.startsWith('【三级舆情汇总】'))
    .map((t) => [...t.matchAll(/\] (警情 \S+)/g)].map((m) => m[1]!));
}

describe('三级 digests and held summaries survive a restart (engine on the embedded store, loopback robot)', () => {
  const config = testConfig('embedded');
  let store: Store;
  let robot: ProviderServer;
  let clock = Date.parse('2026-03-05T02:00:00Z');

  const notifier = (extra: Partial<ConstructorParameters<typeof Notifier>[0]> = {}) =>
    new Notifier({
      store,
      roster,
      policies: { default: PolicySchema.parse(twoStepPolicy('wecom', 600)) },
      senders: createSenders(ChannelsSchema.parse({ wecom: { webhook: `${robot.url}cgi-bin/webhook/send?key=k` } }), { now: () => clock }),
      log: silentLogger,
      now: () => clock,
      retryDelayMs: { initial: 1, max: 5 },
      ...extra,
    });

  beforeAll(async () => {
    store = storeFor(config);
    await store.init();
    robot = await robotServer();
  });
  afterAll(async () => {
    await robot.close();
    await store.close();
    removeDataDir(config);
  });
  beforeEach(() => void (robot.received.length = 0));

  it('the next digest after a restart lists each queued alert once, and nothing an earlier digest listed', async () => {
    const start = clock;
    const [a1, a2, a3, a4] = ['d1', 'd2', 'd3', 'd4'].map((k, i) => opened(k, 3, start + i * MIN));
    for (const x of [a1!, a2!, a3!, a4!]) await store.createAlert(x.alert);

    const first = notifier();
    await first.handleEvent(a1!.event);
    await first.handleEvent(a2!.event);
    clock = start + 31 * MIN;
    await first.tick();
    expect(digests(robot)).toEqual([['警情 d1', '警情 d2']]);
    // Queued after that digest, then the process ends before the next one.
    await first.handleEvent(a3!.event);
    await first.handleEvent(a4!.event);
    await first.handleEvent(a4!.event);

    clock += 5 * MIN;
    const second = notifier();
    await second.resume();
    // The bus redelivers what the first had not committed: already queued, or already in a digest.
    await second.handleEvent(a4!.event);
    await second.handleEvent(a1!.event);
    // Due when the first would have sent it at the latest: 30 minutes after d3 opened, long past.
    await second.tick();
    expect(digests(robot)).toEqual([['警情 d1', '警情 d2'], ['警情 d3', '警情 d4']]);

    // Another restart: everything has been listed, nothing is sent again.
    clock += 40 * MIN;
    const third = notifier();
    await third.resume();
    await third.handleEvent(a3!.event);
    expect(third.nextDueAt()).toBeUndefined();
    await third.tick();
    expect(robot.received).toHaveLength(2);
  });

  it('during quiet hours the digest waits, across a restart, and goes out once when they end', async () => {
    const quietHours = { from: '22:00', to: '07:00' };
    clock = Date.parse('2026-03-06T14:10:00Z'); // 22:10 in Beijing
    const q = opened('q1', 3, clock);
    await store.createAlert(q.alert);
    await notifier({ quietHours }).handleEvent(q.event);

    clock = Date.parse('2026-03-06T18:00:00Z'); // 02:00
    const second = notifier({ quietHours });
    await second.resume();
    await second.tick();
    expect(robot.received).toHaveLength(0);
    clock = Date.parse('2026-03-06T23:00:00Z'); // 07:00
    await second.tick();
    await second.tick();
    expect(digests(robot)).toEqual([['警情 q1']]);
  });

  it('a message held by the hourly cap is summarised after a restart, once, and the cap still counts what was sent before it', async () => {
    clock = Date.parse('2026-03-07T02:00:00Z');
    const b1 = opened('b1', 2, clock);
    const b2 = opened('b2', 2, clock);
    await store.createAlert(b1.alert);
    await store.createAlert(b2.alert);
    const first = notifier({ perPersonPerHour: 1 });
    await first.handleEvent(b1.event);
    await first.handleEvent(b2.event);
    expect(robot.received.map((r) => robotMessage(r).text)).toEqual([expect.stringContaining('警情 b1')]);
    const held = (await store.searchDeliveries({ alert_id: [b2.alert.id], size: 10 })).items;
    expect(held.map((d) => [d.person, d.status])).toEqual([['zhang', 'held']]);

    clock += 10 * MIN;
    const second = notifier({ perPersonPerHour: 1 });
    // The held round counts as done: b2's escalation resumes without paging it again.
    expect((await second.resume()).sort()).toEqual([b1.alert.id, b2.alert.id].sort());
    await second.tick();
    expect(robot.received).toHaveLength(1);

    clock += 51 * MIN;
    await second.tick();
    expect(robot.received).toHaveLength(2);
    const summary = robotMessage(robot.received[1]!).text;
    expect(summary).toMatch(/暂缓 1 条/);
    expect(summary).toContain('二级 警情 b2');

    const third = notifier({ perPersonPerHour: 1 });
    await third.resume();
    clock += 2 * 60 * MIN;
    await third.tick();
    expect(robot.received).toHaveLength(2);
  });
});

describe('a SIGKILLed notifier process', () => {
  it('its successor sends the digest it was collecting, listing each alert once', async () => {
    const robot = await robotServer();
    const base = testConfig('embedded');
    const rosterFile = join(base.data_dir, 'roster.yaml');
    writeFileSync(rosterFile, ROSTER_YAML);
    const steps = [{ notify: ['duty'], channels: ['wecom'] }];
    const config: Config = {
      ...base,
      http: { ...base.http, port: 0 },
      log: { level: 'info' },
      notify: NotifySchema.parse({
        roster: rosterFile,
        tick_seconds: 0.2,
        // Real time here: a one-minute digest.
        policies: { default: { levels: { 1: { steps }, 2: { steps }, 3: { digest: { every_minutes: 1 } } } } },
        channels: { wecom: { webhook: `${robot.url}cgi-bin/webhook/send?key=k` } },
      }),
    };
    const file = join(config.data_dir, 'shaobing.json');
    writeFileSync(file, JSON.stringify(config));
    const queued = ['k1', 'k2', 'k3'].map((k, i) => opened(k, 3, Date.now() + i * 1000));
    {
      const bus = busFor(config);
      const store = storeFor(config);
      await Promise.all([bus.start(), store.init()]);
      for (const q of queued) await store.createAlert(q.alert);
      await bus.publish('alert_events', queued.map((q) => ({ key: q.alert.id, value: q.event })));
      await bus.stop();
      await store.close();
    }
    const first = startPipelineProcess(file, { role: 'notifier' });
    try {
      await eventually(() => first.log(), (log) => (log.match(/added to the 三级 digest/g) ?? []).length === 3, 120_000);
      expect(robot.received).toHaveLength(0);
    } finally {
      first.kill('SIGKILL');
    }
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = startPipelineProcess(file, { role: 'notifier' });
    try {
      await eventually(() => robot.received.length, (n) => n >= 1, 150_000);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(digests(robot)).toEqual([['警情 k1', '警情 k2', '警情 k3']]);
      expect(second.log()).toMatch(/三级 digest items restored/);
    } finally {
      second.kill('SIGTERM');
      await second.exited;
      await robot.close();
      removeDataDir(config);
    }
  });
});
