import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../../bus/types';
import { contentVersion, fileId } from '../../console/rules/files';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import type { Role } from '../../daemon/roles';
import { createPipelineRole } from '../../pipeline/role';
import type { Store } from '../../store/types';
import { busFor, eventually, removeDataDir, storeFor, testConfig } from '../support/backends';
import { doc } from '../support/records';
import { tempFiles } from '../rules/fixtures';
import { startConsole, type TestConsole } from './helpers';

/**
 * A save in the console reaches a running pipeline without a restart: the pipeline role (its own
 * embedded bus and store, its own RuleSet) watches the same topic file the console writes.
 */

const BLAST = `topics:
  - id: blast
    name: 化工厂爆炸
    subject: [化工厂]
    event: [爆炸]
    alert_on: any
    threshold: 0.1
`;
const WITH_LEAK = `${BLAST}  - id: leak
    name: 化工厂泄漏
    subject: [化工厂]
    event: [泄漏]
    alert_on: any
    threshold: 0.1
`;
const LEAK_TEXT = '今天凌晨，江苏一化工厂发生氯气泄漏，周边群众已紧急疏散。';

describe('a console save reaches the running pipeline', () => {
  let dir: string;
  let c: TestConsole;
  let bus: Bus;
  let store: Store;
  let pipeline: Role;
  const base = testConfig('embedded');
  const config = { ...base, rules: { ...base.rules, watch: true } };

  beforeAll(async () => {
    dir = tempFiles({ 'topics.yaml': BLAST });
    config.rules.paths = [join(dir, 'topics.yaml')];
    bus = busFor(config);
    store = storeFor(config);
    await Promise.all([bus.start(), store.init()]);
    pipeline = createPipelineRole({ config, bus, store, log: silentLogger, metrics: createMetricsRegistry({ processMetrics: false }) });
    await pipeline.start();
    c = await startConsole({ users: [{ name: 'ana', role: 'analyst' }], rules: [join(dir, 'topics.yaml')] });
    // Two daemons' worth of start-up (jieba, the sentiment model, two embedded databases) on a shared machine.
  }, 180_000);

  afterAll(async () => {
    await c.close();
    await pipeline.stop();
    await bus.stop();
    await store.close();
    removeDataDir(config);
    rmSync(dir, { recursive: true, force: true });
  });

  let attempt = 0;
  /** Publishes a new leak report and returns the topics the pipeline stored it with. */
  const topicsOfNewLeak = async (): Promise<string[] | undefined> => {
    const leak = doc({ key: `leak-${attempt++}`, title: '化工厂泄漏', text: LEAK_TEXT });
    await bus.publish('documents', [{ key: leak.id, value: leak }]);
    const stored = await eventually(() => store.getDocument(leak.id), (d) => d !== undefined);
    return stored?.topics;
  };

  it('matches a topic added in the console on the next documents', async () => {
    expect(await topicsOfNewLeak()).toEqual([]);

    const ana = await c.login('ana');
    const id = fileId(join(dir, 'topics.yaml'));
    const saved = await ana.put(`/api/rules/files/${id}`, { text: WITH_LEAK, base_version: contentVersion(BLAST), message: '新增泄漏专题' });
    expect(saved.status).toBe(200);
    expect(saved.body.in_force.applied).toBe(true);

    // The pipeline reloads after its watcher's quiet period; documents before that still see the old set.
    const topics = await eventually(topicsOfNewLeak, (t) => t?.includes('leak') === true, 20_000);
    expect(topics).toEqual(['leak']);
  });
});
