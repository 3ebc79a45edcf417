import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendKinds, busFor, removeDataDir, storeFor, testConfig } from '../support/backends';
import { PROJECT_ROOT } from '../support/cli';
import { doc, REAL_TEXTS } from '../support/records';

function consumer(configFile: string, deliveries: string, crash: boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), join(PROJECT_ROOT, 'test/support/crash-consumer.ts'), configFile, deliveries], {
    env: { ...process.env, CRASH: crash ? '1' : '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe.each(backendKinds)('a consumer killed between processing and commit (%s)', (kind) => {
  it('gets the batch again on restart, and the store still holds one record per document', async () => {
    const config = testConfig(kind, { partitions: 1 });
    const configFile = join(config.data_dir, 'config.yaml');
    // JSON is YAML: the child reads the very config this test built, through the real loader.
    writeFileSync(configFile, JSON.stringify(config));
    const deliveries = join(config.data_dir, 'deliveries.log');
    writeFileSync(deliveries, '');

    const docs = Array.from({ length: 20 }, (_, i) => doc({ key: `crash-${i}`, text: REAL_TEXTS[i % REAL_TEXTS.length]! }));
    const bus = busFor(config);
    await bus.publish('documents', docs.map((d) => ({ key: d.id, value: d })));
    await bus.stop();

    const crashed = await consumer(configFile, deliveries, true);
    expect(crashed.signal).toBe('SIGKILL');
    const firstRun = readFileSync(deliveries, 'utf8').trim().split('\n');
    expect(firstRun).toEqual(docs.slice(0, 5).map((d) => d.id));

    const drained = await consumer(configFile, deliveries, false);
    expect({ code: drained.code, stderr: drained.stderr }).toEqual({ code: 0, stderr: '' });
    const all = readFileSync(deliveries, 'utf8').trim().split('\n');
    // The killed batch was processed but never committed, so it came again: at-least-once.
    expect(all.slice(5, 10)).toEqual(firstRun);
    expect(new Set(all)).toEqual(new Set(docs.map((d) => d.id)));
    expect(all).toHaveLength(25);

    // Idempotent writes: twice delivered, once stored.
    const store = storeFor(config);
    await store.refresh();
    const stored = await store.searchDocuments({ size: 100 });
    expect(stored.total).toBe(20);
    expect(stored.items.map((d) => d.id).sort()).toEqual(docs.map((d) => d.id).sort());
    expect(await store.getDocument(docs[0]!.id)).toEqual(docs[0]);
    await store.close();
    removeDataDir(config);
  }, 240_000);
});
