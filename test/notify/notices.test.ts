import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CollectorsSchema, SourcesSchema } from '../../collectors/config';
import { createCollectorRole } from '../../collectors/role';
import type { Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import { OperatorNotice } from '../../core/records';
import { NotifySchema } from '../../notify/config';
import { createNotifierRole } from '../../notify/role';
import { startFixtureServer, type FixtureServer } from '../fixtures/collectors/server';
import { FAST_HTTP } from '../collectors/helpers';
import { backendKinds, busFor, eventually, removeDataDir, storeFor, testConfig, uniqueName } from '../support/backends';
import { robotMessage, robotServer, ROSTER_YAML, type ProviderServer } from './helpers';

jest.setTimeout(300_000);

/**
 * A feed on 127.0.0.1 fails two rounds: the collector raises a notice, the bus carries it, the
 * notifier tells the operator through the WeCom robot; the same notice again is not re-sent; the
 * feed's recovery closes it with a second message.
 */
describe.each(backendKinds)('collector notices reach the operators through the bus (%s)', (kind) => {
  let feeds: FixtureServer;
  let robot: ProviderServer;
  let config: Config;
  beforeAll(async () => {
    feeds = await startFixtureServer();
    robot = await robotServer();
    const base = testConfig(kind);
    const roster = join(base.data_dir, 'roster.yaml');
    writeFileSync(roster, ROSTER_YAML);
    config = {
      ...base,
      sources: SourcesSchema.parse([{ type: 'rss', name: '新华网', url: feeds.url('/rss/feed-gbk.xml'), full_article: 'never', interval_seconds: 10 }]),
      // The backoff's ceiling at the interval: failing rounds come every 10 s instead of 20, 40 s….
      collectors: CollectorsSchema.parse({ jitter_ratio: 0, max_backoff_seconds: 10, alert_after_failures: 2, http: { ...FAST_HTTP, max_attempts: 1 } }),
      notify: NotifySchema.parse({ roster, tick_seconds: 0.2, operators: ['ops'], operator_channels: ['wecom'], channels: { wecom: { webhook: `${robot.url}send?key=k` } } }),
    };
  });
  afterAll(async () => {
    await Promise.all([feeds.close(), robot.close()]);
    removeDataDir(config);
  });

  it('failing N rounds → one message at the operator\'s robot; a repeat is not re-sent; the recovery closes it', async () => {
    const bus = busFor(config);
    const store = storeFor(config);
    await Promise.all([bus.start(), store.init()]);
    const context = { config, bus, store, log: silentLogger, metrics: createMetricsRegistry({ processMetrics: false }) };
    const notifier = createNotifierRole(context);
    const collector = createCollectorRole(context);
    const seen: OperatorNotice[] = [];
    const watch = await bus.subscribe({
      group: uniqueName('notice-watch'),
      topic: 'operator_notices',
      handler: async (batch) => void seen.push(...batch.map((m) => OperatorNotice.parse(JSON.parse(m.value.toString('utf8'))))),
    });
    feeds.override('/rss/feed-gbk.xml', (_req, res) => {
      res.writeHead(503);
      res.end('maintenance');
    });
    try {
      await notifier.start();
      await collector.start();
      await eventually(() => robot.received.length, (n) => n >= 1, 120_000);
      const told = robotMessage(robot.received[0]!);
      expect(told.to).toBe('ops');
      expect(told.text).toMatch(/^【运维告警】feed 新华网 failing since .* \(2 failed rounds\): SB_COLLECT_FETCH_FAILED/);

      // The same notice again (a redelivery, a second collector): nothing new reaches the operator.
      await eventually(() => seen.length, (n) => n >= 1, 30_000);
      expect(seen[0]).toMatchObject({ kind: 'source_failing', source: '新华网', error_streak: 2 });
      await bus.publish('operator_notices', [{ key: seen[0]!.source, value: seen[0] }]);
      await eventually(() => seen.length, (n) => n >= 2, 30_000);

      feeds.reset();
      await eventually(() => robot.received.length, (n) => n >= 2, 60_000);
      const recovered = robotMessage(robot.received[1]!);
      expect(recovered.to).toBe('ops');
      expect(recovered.text).toMatch(/^【运维恢复】feed 新华网 works again after 2 failed round\(s\)/);
      expect(robot.received).toHaveLength(2);
      expect(seen.map((n) => n.kind)).toEqual(['source_failing', 'source_failing', 'source_recovered']);
      await store.refresh();
      const log = (await store.searchDeliveries({ alert_id: ['source:新华网'], order: 'asc', size: 10 })).items;
      expect(log.map((d) => [d.person, d.channel, d.status, d.event_id.split(':')[1]])).toEqual([
        ['ops', 'wecom', 'sent', 'source_failing'],
        ['ops', 'wecom', 'sent', 'source_recovered'],
      ]);
    } finally {
      await collector.stop();
      await notifier.stop();
      await watch.stop();
      await bus.stop();
      await store.close();
    }
  });
});
