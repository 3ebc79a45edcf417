/**
 * A consumer process for the crash tests: stores each batch of documents, logs the keys it
 * handled, and, with CRASH=1, kills itself with SIGKILL right after storing the first batch,
 * before the bus commits it. Without CRASH it drains the topic and exits 0.
 * Usage: node -r @swc-node/register test/support/crash-consumer.ts <config.yaml> <deliveries.log>
 */
import { appendFileSync } from 'node:fs';
import { loadConfig } from '../../core/config';
import { IndexedDocument } from '../../core/records';
import { busFor, storeFor } from './backends';

async function main(): Promise<void> {
  const [configFile, deliveries] = process.argv.slice(2) as [string, string];
  const config = loadConfig(configFile, {});
  const bus = busFor(config);
  const store = storeFor(config);
  await store.init();
  const group = 'crash-test';
  const subscription = await bus.subscribe({
    group,
    topic: 'documents',
    maxBatchSize: 5,
    handler: async (batch) => {
      await store.putDocuments(batch.map((m) => IndexedDocument.parse(JSON.parse(m.value.toString('utf8')))));
      appendFileSync(deliveries, batch.map((m) => `${m.key}\n`).join(''));
      if (process.env.CRASH === '1') process.kill(process.pid, 'SIGKILL');
    },
  });
  for (;;) {
    const lag = await bus.lag(group, 'documents');
    if (lag.every((p) => p.lag === 0)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await subscription.stop();
  await bus.stop();
  await store.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
