import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../../bus/types';
import type { Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import type { Alert } from '../../core/records';
import { acknowledgeAlert } from '../../notify/ack';
import { NotifySchema } from '../../notify/config';
import { parsePageKey } from '../../notify/notifier';
import { createNotifierRole } from '../../notify/role';
import type { Store } from '../../store/types';
import { busFor, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { startPipelineProcess } from '../support/pipeline-process';
import { alert } from '../support/records';
import { robotMessage, robotServer, ROSTER_YAML, twoStepPolicy, type ProviderServer } from './helpers';

jest.setTimeout(300_000);

const MIN = 60_000;
const settle = () => new Promise((r) => setTimeout(r, 600));

function configWith(base: Config, robot: ProviderServer, leaderAfterMinutes: number, extra: Record<string, unknown> = {}): Config {
  const roster = join(base.data_dir, 'roster.yaml');
  writeFileSync(roster, ROSTER_YAML);
  return {
    ...base,
    notify: NotifySchema.parse({
      roster,
      tick_seconds: 0.1,
      policies: { default: twoStepPolicy('wecom', leaderAfterMinutes) },
      channels: { wecom: { webhook: `${robot.url}cgi-bin/webhook/send?key=k` } },
      ...extra,
    }),
  };
}

async function publishOpened(bus: Bus, store: Store, a: Alert): Promise<void> {
  await store.createAlert(a);
  await bus.publish('alert_events', [{ key: a.id, value: { id: `${a.id}:opened`, type: 'opened', alert_id: a.id, topic: a.topic, title: a.title, level: a.level, at: a.opened_at } }]);
}

describe('escalations resume after a restart', () => {
  let robot: ProviderServer;
  beforeAll(async () => {
    robot = await robotServer();
  });
  afterAll(() => robot.close());
  beforeEach(() => void (robot.received.length = 0));

  it('in one process: the next step fires once at its time, no step repeats, an alert acknowledged while down is not paged', async () => {
    const config = configWith(testConfig('embedded'), robot, 10);
    const bus = busFor(config);
    const store = storeFor(config);
    await Promise.all([bus.start(), store.init()]);
    let clock = Date.parse('2026-03-05T02:00:00Z');
    const role = () => createNotifierRole({ config, bus, store, log: silentLogger, metrics: createMetricsRegistry({ processMetrics: false }) }, { now: () => clock });
    const fire = alert({ key: 'resume-fire', level: 1, title: '化工厂爆炸' });
    const quiet = alert({ key: 'resume-acked', level: 1, title: '道路塌陷' });
    try {
      const first = role();
      await first.start();
      await publishOpened(bus, store, fire);
      await publishOpened(bus, store, quiet);
      await eventually(() => robot.received.length, (n) => n === 2, 60_000);
      expect(robot.received.map((r) => robotMessage(r).to)).toEqual(['zhang', 'zhang']);
      await first.stop();

      // While nobody runs: 道路塌陷 is acknowledged in the console, and 9 minutes pass.
      await acknowledgeAlert(store, { alertId: quiet.id, person: 'zhang', via: 'console', at: new Date(clock).toISOString() });
      clock += 9 * MIN;
      const second = role();
      await second.start();
      expect(second.notifier!.activeAlerts.sort()).toEqual([fire.id, quiet.id].sort());
      await settle();
      expect(robot.received).toHaveLength(2);

      clock += 2 * MIN;
      await eventually(() => robot.received.length, (n) => n === 3, 30_000);
      await settle();
      expect(robot.received).toHaveLength(3);
      const leader = robotMessage(robot.received[2]!);
      expect(leader.to).toBe('zhao');
      expect(leader.text).toContain('化工厂爆炸');
      await second.stop();

      // The delivery log shows each round once: step 0 for both alerts, step 1 for the open one only.
      await store.refresh();
      const rounds = (await store.searchDeliveries({ time: { from: '2026-01-01T00:00:00Z' }, size: 100 })).items
        .filter((d) => d.status === 'sent')
        .map((d) => `${d.alert_id === fire.id ? 'fire' : 'quiet'} ${parsePageKey(d.event_id)?.step}:${parsePageKey(d.event_id)?.round} ${d.person}`);
      expect(rounds.sort()).toEqual(['fire 0:0 zhang', 'fire 1:0 zhao', 'quiet 0:0 zhang']);
    } finally {
      await bus.stop();
      await store.close();
      removeDataDir(config);
    }
  });

  it('a SIGKILLed notifier process: its successor sends step 2 once, and never step 1 again', async () => {
    // Real time here: the leader's step is 30 s after the first page.
    const withRobot = configWith(testConfig('embedded'), robot, 0.5);
    const config: Config = { ...withRobot, http: { ...withRobot.http, port: 0 }, log: { level: 'info' } };
    const file = join(config.data_dir, 'shaobing.json');
    writeFileSync(file, JSON.stringify(config));
    const fire = alert({ key: 'resume-kill', level: 1, title: '水库溃坝' });
    {
      // The event waits on the bus before any notifier runs; the embedded backends then belong to the child.
      const bus = busFor(config);
      const store = storeFor(config);
      await Promise.all([bus.start(), store.init()]);
      await publishOpened(bus, store, { ...fire, opened_at: new Date().toISOString() });
      await bus.stop();
      await store.close();
    }
    const first = startPipelineProcess(file, { role: 'notifier' });
    try {
      // "delivered" is logged once the delivery is in the store: from then on a restart must not repeat it.
      await eventually(() => first.log(), (log) => /"msg":"delivered"/.test(log), 120_000);
      expect(robot.received.map((r) => robotMessage(r).to)).toEqual(['zhang']);
    } finally {
      first.kill('SIGKILL');
    }
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = startPipelineProcess(file, { role: 'notifier' });
    try {
      await eventually(() => robot.received.length, (n) => n >= 2, 150_000);
      await eventually(() => second.log(), (log) => (log.match(/"msg":"delivered"/g) ?? []).length >= 1, 30_000);
      await settle();
      expect(robot.received.map((r) => robotMessage(r).to)).toEqual(['zhang', 'zhao']);
      expect(second.log()).toMatch(/escalations resumed from the delivery log/);
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
    const store = storeFor(config);
    await store.init();
    const sent = (await store.searchDeliveries({ alert_id: [fire.id], status: ['sent'], size: 100 })).items;
    expect(sent.map((d) => d.person).sort()).toEqual(['zhang', 'zhao']);
    await store.close();
    removeDataDir(config);
  });
});
