import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import { NotifySchema } from '../../notify/config';
import { createNotifierRole } from '../../notify/role';
import { busFor, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { alert } from '../support/records';
import { providerServer } from './helpers';

// Starting the embedded database alone takes 40 s on a loaded 2-core machine.
jest.setTimeout(180_000);

it('the notifier role consumes alert_events, pages by SMS, and serves the acknowledgement link that stops it', async () => {
  const sms = await providerServer(() => ({ status: 200, body: { Code: 'OK' } }));
  const base = testConfig('embedded');
  const rosterFile = join(base.data_dir, 'roster.yaml');
  writeFileSync(rosterFile, ['people: [{ id: zhang, name: 张三, mobile: "13800000001" }]', 'rotations: [{ id: primary, shift: daily, start: 2026-01-01, members: [zhang] }]', ''].join('\n'));
  const config = {
    ...base,
    notify: NotifySchema.parse({
      roster: rosterFile,
      tick_seconds: 0.1,
      public_url: 'https://duty.example.cn',
      ack: { secret: 'x'.repeat(32), port: 0 },
      policies: { default: { levels: { 1: { steps: [{ notify: ['duty'], channels: ['sms'], repeat_every_minutes: 1 }] }, 2: { steps: [{ notify: ['duty'], channels: ['sms'] }] }, 3: { digest: {} } } } },
      channels: { sms: [{ provider: 'aliyun', access_key_id: 'id', access_key_secret: 'secret', sign_name: 's', template_code: 't', endpoint: sms.url }] },
    }),
  };
  const bus = busFor(config);
  const store = storeFor(config);
  await Promise.all([bus.start(), store.init()]);
  let clock = Date.parse('2026-03-05T02:00:00Z');
  const role = createNotifierRole({ config, bus, store, log: silentLogger, metrics: createMetricsRegistry() }, { now: () => clock });
  try {
    await role.start();
    expect(role.health()).toEqual({ ready: true });
    const a = alert({ key: 'role', level: 1 });
    await store.createAlert(a);
    await bus.publish('alert_events', [
      { key: a.id, value: 'not json' },
      { key: a.id, value: { id: `${a.id}:opened`, type: 'opened', alert_id: a.id, topic: 'fire', title: a.title, level: 1, at: a.opened_at } },
    ]);
    await eventually(() => sms.received.length, (n) => n === 1, 15_000);
    expect(role.health().detail).toBe('1 alert(s) being paged or watched');

    const link = JSON.parse(new URLSearchParams(sms.received[0]!.body).get('TemplateParam')!).link as string;
    expect(link.startsWith('https://duty.example.cn/ack/')).toBe(true);
    const local = `${role.ackUrl}${new URL(link).pathname}`;
    expect((await fetch(local, { method: 'POST' })).status).toBe(200);

    clock += 5 * 60_000;
    await new Promise((r) => setTimeout(r, 500));
    expect(sms.received).toHaveLength(1);
    expect((await store.getAlert(a.id))?.value.status).toBe('acknowledged');
  } finally {
    await role.stop();
    await role.stop();
    await bus.stop();
    await store.close();
    await sms.close();
    removeDataDir(config);
  }
});

it('without a roster the role idles and says so', async () => {
  const config = testConfig('embedded');
  const role = createNotifierRole({ config, bus: busFor(config), store: storeFor(config), log: silentLogger, metrics: createMetricsRegistry() });
  await role.start();
  expect(role.health()).toEqual({ ready: true, detail: expect.stringContaining('no duty roster configured') });
  await role.stop();
  removeDataDir(config);
});
