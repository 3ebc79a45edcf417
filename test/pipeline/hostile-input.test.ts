import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCorpus, CORPUS_TOPICS_YAML } from '../../bench/corpus';
import type { Bus, BusMessage } from '../../bus/types';
import type { Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import { createMetricsRegistry } from '../../core/metrics';
import { stableId, type Document } from '../../core/records';
import type { Role } from '../../daemon/roles';
import { DEAD_LETTER_HEADERS } from '../../pipeline/handler';
import { createPipelineRole } from '../../pipeline/role';
import type { Store } from '../../store/types';
import { backendKinds, busFor, eventually, removeDataDir, storeFor, testConfig, uniqueName } from '../support/backends';

/**
 * 1,000 malformed or hostile messages among 2,000 good ones: every bad one lands in the
 * dead-letter topic, unchanged, with its reason; every good one is stored; nothing stalls.
 */

const TEN_MB = 10 * 1024 * 1024;

interface Hostile {
  key: string;
  value: Buffer;
  reason: RegExp;
}

function hostileMessages(valid: Document): Hostile[] {
  const out: Hostile[] = [];
  const add = (kind: string, count: number, make: (i: number) => Buffer, reason: RegExp) => {
    for (let i = 0; i < count; i++) out.push({ key: `hostile-${kind}-${i}`, value: make(i), reason });
  };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');
  const good = Buffer.from(JSON.stringify(valid), 'utf8');
  const invalidUtf8 = [
    [0xff, 0xfe], // never valid
    [0xc0, 0xaf], // overlong "/"
    [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
    [0xe6, 0xb1], // a character cut in half
    [0xf8, 0x88, 0x80, 0x80, 0x80], // a five-byte form
  ];
  add('utf8', 250, (i) => {
    const bad = Buffer.from(invalidUtf8[i % invalidUtf8.length]!);
    const at = Math.floor((good.length * (i % 17)) / 17);
    return Buffer.concat([good.subarray(0, at), bad, good.subarray(at)]);
  }, /^not valid UTF-8$/);
  const wrong: Array<(i: number) => unknown> = [
    (i) => ({ ...valid, id: `NOT-HEX-${i}` }),
    (i) => ({ ...valid, id: stableId('hostile', String(i)), url: 'javascript:alert(1)' }),
    (i) => ({ ...valid, id: stableId('hostile', String(i)), published_at: '昨天下午' }),
    (i) => ({ ...valid, id: stableId('hostile', String(i)), platform: 'myspace' }),
    (i) => ({ ...valid, id: stableId('hostile', String(i)), text: { $where: 'sleep(1000)' } }),
    (i) => ({ ...valid, id: stableId('hostile', String(i)), __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } }),
    (i) => ({ ...valid, id: stableId('hostile', String(i)), metrics: { reposts: -1 } }),
    () => ({ title: '只有标题' }),
    () => [valid],
    () => null,
    () => 42,
    () => '一段字符串',
  ];
  // Legal JSON, but no text holds U+0000, and PostgreSQL (the embedded backends) refuses it.
  add('nul', 10, (i) => json({ ...valid, id: stableId('nul', String(i)), text: `火灾\u0000${i}` }), /^contains U\+0000 \(NUL\)$/);
  add('schema', 390, (i) => json(wrong[i % wrong.length]!(i)), /^not a Document: /);
  const notJson = [good.subarray(0, good.length >> 1), Buffer.alloc(0), Buffer.from('{"id": "abc",}'), Buffer.from('<html><body>不是 JSON</body></html>'), Buffer.from('\u0000\u0001\u0002')];
  add('syntax', 200, (i) => notJson[i % notJson.length]!, /^not JSON: /);
  // Nesting: deep enough to overflow a recursive parser or renderer.
  add('nested-json', 90, (i) => Buffer.from(`${'['.repeat(50_000 + i)}${']'.repeat(50_000 + i)}`), /^not (JSON|a Document): /);
  add('nested-html-tree', 50, (i) => {
    // `html` as a DOM tree of objects, 20,000 levels deep (past what JSON.stringify can recurse), instead of a string.
    const depth = 20_000 + i;
    const tree = `${'{"tag":"div","children":['.repeat(depth)}{"tag":"p","text":"火灾"}${']}'.repeat(depth)}`;
    return Buffer.from(`{"id":"${stableId('nested', String(i))}","html":${tree}}`);
  }, /^not (JSON|a Document): /);
  // Just over the pipeline's 2 MiB limit: 200,000 nested elements.
  add('nested-html-huge', 7, (i) => json({ ...valid, id: stableId('nested-huge', String(i)), html: `${'<div>'.repeat(200_000 + i)}火灾${'</div>'.repeat(200_000 + i)}` }), /^message of \d+ bytes exceeds the 2097152-byte limit$/);
  add('10mb', 3, (i) => json({ ...valid, id: stableId('ten-mb', String(i)), text: '长'.repeat(TEN_MB / 3 + i) }), /^message of \d+ bytes exceeds the 2097152-byte limit$/);
  return out;
}

describe.each(backendKinds)('1,000 malformed and hostile messages among good ones (%s)', (kind) => {
  let config: Config;
  let bus: Bus;
  let store: Store;
  let role: Role;
  const deadLetters: BusMessage[] = [];

  beforeAll(async () => {
    const base = testConfig(kind, { partitions: 1 });
    const topics = join(base.data_dir, 'topics.yaml');
    writeFileSync(topics, CORPUS_TOPICS_YAML);
    config = {
      ...base,
      bus: { ...base.bus, max_message_bytes: 16 * 1024 * 1024 },
      rules: { ...base.rules, paths: [topics], watch: false },
    };
    bus = busFor(config);
    store = storeFor(config);
    await Promise.all([bus.start(), store.init()]);
    role = createPipelineRole({ config, bus, store, log: silentLogger, metrics: createMetricsRegistry({ processMetrics: false }) });
    await role.start();
    await bus.subscribe({ group: uniqueName('dead'), topic: 'dead_letters', handler: async (batch) => void deadLetters.push(...batch) });
  }, 60_000);

  afterAll(async () => {
    await role?.stop();
    await bus?.stop();
    await store?.close();
    removeDataDir(config);
  });

  it('dead-letters each unchanged with its reason, stores every good document, and keeps flowing', async () => {
    const good = buildCorpus({ size: 2_000, seed: 7 });
    // Valid documents whose text and html are deeply nested markup: odd, but Documents, so stored.
    const markup: Document[] = Array.from({ length: 5 }, (_, i) => ({
      ...good[i]!,
      id: stableId('markup', String(i)),
      text: `${'<div>'.repeat(20_000)}武汉新增确诊病例${'</div>'.repeat(20_000)}`,
      html: `${'<span><b>'.repeat(20_000)}疫情${'</b></span>'.repeat(20_000)}`,
    }));
    const hostile = hostileMessages(good[0]!);
    expect(hostile).toHaveLength(1_000);

    // Interleaved: two good, one bad, in chunks the producer sends as they come.
    const stream: Array<{ key: string; value: unknown }> = [];
    const goods = [...good, ...markup];
    for (let g = 0, h = 0; g < goods.length || h < hostile.length; ) {
      for (let k = 0; k < 2 && g < goods.length; k++, g++) stream.push({ key: goods[g]!.id, value: goods[g]! });
      if (h < hostile.length) stream.push({ key: hostile[h]!.key, value: hostile[h++]!.value });
    }
    const started = Date.now();
    for (let i = 0; i < stream.length; i += 500) await bus.publish('documents', stream.slice(i, i + 500));

    const lag = await eventually(() => bus.lag(config.pipeline.group, 'documents'), (l) => l.every((p) => p.lag === 0), 180_000);
    expect(lag.every((p) => p.lag === 0)).toBe(true);
    await eventually(() => deadLetters.length, (n) => n >= hostile.length, 60_000);
    const elapsed = Date.now() - started;

    const byKey = new Map(deadLetters.map((m) => [m.key, m]));
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const wrong = hostile.flatMap((h) => {
      const m = byKey.get(h.key);
      if (!m) return [`${h.key}: missing`];
      const reason = m.headers[DEAD_LETTER_HEADERS.reason] ?? '';
      if (!h.reason.test(reason)) return [`${h.key}: reason "${reason.slice(0, 120)}"`];
      if (digest(m.value) !== digest(h.value)) return [`${h.key}: bytes changed`];
      if (!/^documents\/0\/\d+$/.test(m.headers[DEAD_LETTER_HEADERS.origin] ?? '')) return [`${h.key}: origin ${m.headers[DEAD_LETTER_HEADERS.origin]}`];
      return [];
    });
    expect(wrong).toEqual([]);
    expect(deadLetters).toHaveLength(hostile.length);

    await store.refresh();
    const ids = [...new Set(goods.map((d) => d.id))];
    let stored = 0;
    for (let i = 0; i < ids.length; i += 1000) stored += (await store.searchDocuments({ id: ids.slice(i, i + 1000), size: 1000 })).items.length;
    expect(stored).toBe(ids.length);
    const nested = await store.getDocument(markup[0]!.id);
    expect(nested?.text).toBe(markup[0]!.text);
    expect(nested?.html).toBe(markup[0]!.html);
    expect(nested?.cluster_id).toEqual(expect.any(String));
    // Nothing but the 1,000 and the good documents reached the store.
    expect((await store.searchDocuments({ size: 0 })).total).toBe(ids.length);
    console.info(`${kind}: ${goods.length} good and ${hostile.length} hostile messages handled in ${elapsed} ms`);
  }, 300_000);
});
