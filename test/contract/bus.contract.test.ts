import type { Bus, BusMessage } from '../../bus/types';
import { isShaobingError, ShaobingError } from '../../core/errors';
import { backendKinds, busFor, eventually, removeDataDir, testConfig, uniqueName } from '../support/backends';

const collect = () => {
  const seen: BusMessage[] = [];
  return { seen, handler: async (batch: BusMessage[]) => void seen.push(...batch) };
};

const values = (messages: BusMessage[]) => messages.map((m) => m.value.toString('utf8'));

describe.each(backendKinds)('Bus contract (%s)', (kind) => {
  const config = testConfig(kind, { partitions: 3 });
  let bus: Bus;

  beforeAll(async () => {
    bus = busFor(config);
    await bus.start();
    await bus.start();
  });

  afterAll(async () => {
    await bus.stop();
    await bus.stop();
    removeDataDir(config);
  });

  it('delivers every message with its key, headers and exact bytes, in order per key', async () => {
    const group = uniqueName('g');
    const { seen, handler } = collect();
    const sub = await bus.subscribe({ group, topic: 'alert_events', handler });
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3]);
    await bus.publish('alert_events', [
      { key: 'a', value: { n: 1, text: '森林火灾' }, headers: { source: '新华网' } },
      { key: 'b', value: invalidUtf8 },
      { key: 'a', value: 'plain text' },
    ]);
    await eventually(() => seen.length, (n) => n >= 3);
    await sub.stop();

    expect(seen).toHaveLength(3);
    expect(JSON.parse(seen[0]!.value.toString('utf8'))).toEqual({ n: 1, text: '森林火灾' });
    expect(seen[0]!.key).toBe('a');
    expect(seen[0]!.headers).toEqual({ source: '新华网' });
    expect(seen[0]!.topic).toBe('alert_events');
    expect(Number.isNaN(Date.parse(seen[0]!.timestamp))).toBe(false);
    expect(seen.find((m) => m.key === 'b')!.value.equals(invalidUtf8)).toBe(true);
    expect(values(seen.filter((m) => m.key === 'a'))).toEqual([JSON.stringify({ n: 1, text: '森林火灾' }), 'plain text']);
  });

  it('redelivers a batch whose handler failed with a retriable error, then commits it once', async () => {
    const group = uniqueName('g');
    const attempts: string[][] = [];
    const retries: number[] = [];
    const sub = await bus.subscribe({
      group,
      topic: 'dead_letters',
      maxRetryDelayMs: 50,
      onRetry: (_err, attempt) => retries.push(attempt),
      handler: async (batch) => {
        attempts.push(values(batch));
        if (attempts.length === 1) throw new ShaobingError('SB_STORE_UNAVAILABLE', 'search engine down');
      },
    });
    await bus.publish('dead_letters', [{ key: 'k', value: 'm1' }]);
    await eventually(() => attempts.length, (n) => n >= 2);
    await eventually(() => bus.lag(group, 'dead_letters'), (lag) => lag.every((p) => p.lag === 0));
    await sub.stop();
    expect(attempts.slice(0, 2)).toEqual([['m1'], ['m1']]);
    expect(retries).toEqual([1]);

    // The commit is durable: the group, resubscribed, has nothing left to read.
    const again = collect();
    const sub2 = await bus.subscribe({ group, topic: 'dead_letters', handler: again.handler });
    await bus.publish('dead_letters', [{ key: 'k', value: 'm2' }]);
    await eventually(() => again.seen.length, (n) => n >= 1);
    await sub2.stop();
    expect(values(again.seen)).toEqual(['m2']);
  });

  it('ends the subscription on a non-retriable error and leaves the batch uncommitted', async () => {
    const group = uniqueName('g');
    const topic = 'documents' as const;
    const ids = Array.from({ length: 5 }, (_, i) => `poison-${group}-${i}`);
    const sub = await bus.subscribe({
      group,
      topic,
      handler: async (batch) => {
        if (batch.some((m) => m.key.startsWith('poison-'))) throw new TypeError('a bug, not an outage');
      },
    });
    await bus.publish(topic, ids.map((key) => ({ key, value: key })));
    const outcome = await sub.done.then(() => 'resolved', (err: unknown) => err);
    expect(outcome).toBeInstanceOf(TypeError);

    const lag = await bus.lag(group, topic);
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBeGreaterThan(0);
    const retry = collect();
    const sub2 = await bus.subscribe({ group, topic, handler: retry.handler });
    await eventually(() => bus.lag(group, topic), (l) => l.every((p) => p.lag === 0));
    await sub2.stop();
    expect(new Set(retry.seen.map((m) => m.key))).toEqual(new Set(ids));
  });

  it('splits the partitions among the members of a group: each message handled once', async () => {
    const group = uniqueName('g');
    const byMember: string[][] = [[], []];
    const subs = await Promise.all(
      [0, 1].map((i) => bus.subscribe({ group, topic: 'documents', handler: async (batch) => void byMember[i]!.push(...batch.map((m) => m.key)) })),
    );
    if (kind === 'real') await new Promise((r) => setTimeout(r, 3000)); // let the second member's join settle
    const keys = Array.from({ length: 60 }, (_, i) => `${group}-${i}`);
    await bus.publish('documents', keys.map((key) => ({ key, value: key })));
    await eventually(() => byMember.flat().filter((k) => k.startsWith(group)).length, (n) => n >= keys.length);
    await Promise.all(subs.map((s) => s.stop()));
    const mine = byMember.map((list) => list.filter((k) => k.startsWith(group)));
    expect(mine.flat().sort()).toEqual([...keys].sort());
    expect(mine[0]!.length).toBeGreaterThan(0);
    expect(mine[1]!.length).toBeGreaterThan(0);
  });

  it('reports lag per partition as published minus committed', async () => {
    const group = uniqueName('g');
    await bus.publish('alert_events', [1, 2, 3, 4].map((n) => ({ key: `lag-${n}`, value: n })));
    const before = await bus.lag(group, 'alert_events');
    expect(before).toHaveLength(1);
    expect(before[0]!.lag).toBeGreaterThanOrEqual(4);
    const sub = await bus.subscribe({ group, topic: 'alert_events', handler: async () => undefined });
    const after = await eventually(() => bus.lag(group, 'alert_events'), (l) => l[0]!.lag === 0);
    await sub.stop();
    expect(after[0]!.lag).toBe(0);
  });

  it('refuses an unknown topic role', async () => {
    const error = await bus.publish('nope' as 'documents', [{ key: 'k', value: 1 }]).catch((e: unknown) => e);
    expect(isShaobingError(error, 'SB_BUS_UNKNOWN_TOPIC')).toBe(true);
  });
});

it('the embedded bus keeps uncommitted messages across a restart', async () => {
  const config = testConfig('embedded', { partitions: 2 });
  const first = busFor(config);
  await first.publish('documents', [{ key: 'x', value: 'kept' }]);
  await first.stop();
  await expect(first.publish('documents', [{ key: 'y', value: 'late' }])).rejects.toMatchObject({ code: 'SB_BUS_STOPPED' });

  const second = busFor(config);
  await second.start();
  const { seen, handler } = collect();
  const sub = await second.subscribe({ group: 'g', topic: 'documents', handler });
  await eventually(() => seen.length, (n) => n >= 1);
  await sub.stop();
  await second.stop();
  expect(values(seen)).toEqual(['kept']);
  removeDataDir(config);
});
