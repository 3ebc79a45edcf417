import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import type { Alert } from '../../core/records';
import { NotifySchema } from '../../notify/config';
import { createNotifierRole } from '../../notify/role';
import { busFor, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { alert } from '../support/records';
import { robotMessage, robotServer, ROSTER_YAML, twoStepPolicy } from './helpers';

jest.setTimeout(240_000);

const MIN = 60_000;

it('the roster file reloads: a valid edit pages the new leader at the next step; a broken one keeps the last good roster and says where', async () => {
  const robot = await robotServer();
  const base = testConfig('embedded');
  const rosterFile = join(base.data_dir, 'roster.yaml');
  writeFileSync(rosterFile, ROSTER_YAML);
  const config = {
    ...base,
    notify: NotifySchema.parse({
      roster: rosterFile,
      tick_seconds: 0.1,
      policies: { default: twoStepPolicy('wecom', 10) },
      channels: { wecom: { webhook: `${robot.url}send?key=k` } },
    }),
  };
  const bus = busFor(config);
  const store = storeFor(config);
  const metrics = createMetricsRegistry({ processMetrics: false });
  await Promise.all([bus.start(), store.init()]);
  let clock = Date.parse('2026-03-05T02:00:00Z');
  const role = createNotifierRole({ config, bus, store, log: silentLogger, metrics }, { now: () => clock, rosterDebounceMillis: 50 });
  const page = async (a: Alert) => {
    await store.createAlert(a);
    await bus.publish('alert_events', [{ key: a.id, value: { id: `${a.id}:opened`, type: 'opened', alert_id: a.id, topic: a.topic, title: a.title, level: 2, at: a.opened_at } }]);
  };
  const metric = async (name: string) => (await metrics.metrics()).split('\n').find((l) => l.startsWith(name));
  // Editors save by writing a new file and renaming it over the old one.
  const save = (text: string) => {
    writeFileSync(`${rosterFile}.tmp`, text);
    renameSync(`${rosterFile}.tmp`, rosterFile);
  };
  try {
    await role.start();
    await page(alert({ key: 'reload-1', level: 2, title: '河道污染' }));
    await eventually(() => robot.received.length, (n) => n === 1, 60_000);
    expect(robotMessage(robot.received[0]!).to).toBe('zhang');

    // 李四 becomes the leader: the second step, due in 10 minutes, goes to her without a restart.
    save(ROSTER_YAML.replace('leaders: [zhao]', 'leaders: [li]'));
    expect(await eventually(() => metric('shaobing_notify_roster_reloads_total{result="ok"}'), (l) => l !== undefined, 10_000)).toBe('shaobing_notify_roster_reloads_total{result="ok"} 1');
    clock += 10 * MIN;
    await eventually(() => robot.received.length, (n) => n === 2, 10_000);
    expect(robotMessage(robot.received[1]!).to).toBe('li');

    // A broken edit: a mobile that is no phone number, on line 3.
    save(ROSTER_YAML.replace('leaders: [zhao]', 'leaders: [li]').replace('mobile: "13800000002"', 'mobile: "call-me"'));
    const detail = await eventually(() => role.health().detail ?? '', (d) => d.includes('roster rejected'), 10_000);
    expect(detail).toContain(`roster rejected, keeping the roster loaded at `);
    expect(detail).toMatch(new RegExp(`${rosterFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+: people\\[1\\]\\.mobile: a phone number`));
    expect(role.health().ready).toBe(true);
    expect(await metric('shaobing_notify_roster_reloads_total{result="rejected"}')).toBe('shaobing_notify_roster_reloads_total{result="rejected"} 1');
    expect(await metric('shaobing_notify_roster_valid')).toBe('shaobing_notify_roster_valid 0');

    // The last good roster stays in force: li, not zhao, is still the leader the next alert reaches.
    await page(alert({ key: 'reload-2', level: 2, title: '山体滑坡' }));
    await eventually(() => robot.received.length, (n) => n === 3, 10_000);
    clock += 10 * MIN;
    await eventually(() => robot.received.length, (n) => n === 4, 10_000);
    expect(robot.received.slice(2).map((r) => robotMessage(r).to)).toEqual(['zhang', 'li']);

    // Fixed again: healthy, valid.
    save(ROSTER_YAML);
    await eventually(() => role.health().detail ?? '', (d) => !d.includes('roster rejected'), 10_000);
    expect(await metric('shaobing_notify_roster_valid')).toBe('shaobing_notify_roster_valid 1');
  } finally {
    await role.stop();
    await bus.stop();
    await store.close();
    await robot.close();
    removeDataDir(config);
  }
});
