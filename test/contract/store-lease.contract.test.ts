import { LEASE_JOURNAL_SIZE, type Store } from '../../store/types';
import { backendKinds, removeDataDir, storeFor, testConfig } from '../support/backends';

/**
 * The lease that serialises the pipeline's clustering decisions between processes
 * (docs/pipeline.md): at most one holder at a time, a holder that died is replaced once its lease
 * expires, a renewal fails for a holder someone else has replaced, and each grant says who held
 * the lease before (a pipeline that held it last knows nobody else decided anything since).
 */
describe.each(backendKinds)('Store leases (%s)', (kind) => {
  const config = testConfig(kind);
  let store: Store;

  beforeAll(async () => {
    store = storeFor(config);
    await store.init();
  });

  afterAll(async () => {
    await store.close();
    removeDataDir(config);
  });

  it('gives a free lease to one owner and refuses it to another until released, naming the previous holder', async () => {
    expect(await store.acquireLease('cluster', 'a', 60_000)).toEqual({ position: 0, contended: false });
    expect(await store.acquireLease('cluster', 'b', 60_000)).toBeUndefined();
    // Taking again what one holds extends it, and says that b asked for it meanwhile.
    expect(await store.acquireLease('cluster', 'a', 60_000)).toEqual({ previousOwner: 'a', position: 0, contended: true });
    // Freeing what one does not hold changes nothing.
    await store.releaseLease('cluster', 'b');
    expect(await store.acquireLease('cluster', 'b', 60_000)).toBeUndefined();
    await store.releaseLease('cluster', 'a');
    expect(await store.acquireLease('cluster', 'b', 60_000)).toMatchObject({ previousOwner: 'a' });
    await store.releaseLease('cluster', 'b');
    expect(await store.acquireLease('cluster', 'b', 60_000)).toMatchObject({ previousOwner: 'b' });
    await store.releaseLease('cluster', 'b');
  });

  it('lets exactly one of several racing owners take a free lease', async () => {
    const owners = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const taken = await Promise.all(owners.map((o) => store.acquireLease('race', o, 60_000)));
    expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
    const winner = owners[taken.findIndex((t) => t !== undefined)]!;
    expect(await store.acquireLease('race', winner, 60_000, { renew: true })).toMatchObject({ previousOwner: winner });
  });

  it('hands an expired lease to the next owner, after which the old holder cannot renew it', async () => {
    expect(await store.acquireLease('expiring', 'dead', 1)).toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.acquireLease('expiring', 'next', 60_000)).toMatchObject({ previousOwner: 'dead' });
    expect(await store.acquireLease('expiring', 'dead', 60_000, { renew: true })).toBeUndefined();
    expect(await store.acquireLease('expiring', 'dead', 60_000)).toBeUndefined();
  });

  it('renews a lease past its expiry while nobody took it, but not once it was freed', async () => {
    expect(await store.acquireLease('late', 'slow', 1)).toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.acquireLease('late', 'slow', 60_000, { renew: true })).toMatchObject({ previousOwner: 'slow' });
    await store.releaseLease('late', 'slow');
    expect(await store.acquireLease('late', 'slow', 60_000, { renew: true })).toBeUndefined();
    expect(await store.acquireLease('late', 'other', 60_000)).toMatchObject({ previousOwner: 'slow' });
  });

  it('advances its journal only for the holder, tells a holder someone waits, and keeps the newest entries', async () => {
    expect(await store.acquireLease('journal', 'h1', 60_000)).toEqual({ position: 0, contended: false });
    expect(await store.acquireLease('journal', 'h1', 60_000, { renew: true, advance: true })).toEqual({ previousOwner: 'h1', position: 1, contended: false });
    await store.putLeaseEntry('journal', 1, { members: ['a'] });
    expect(await store.acquireLease('journal', 'h2', 60_000, { renew: true, advance: true })).toBeUndefined();
    // h2 asks while h1 holds: h1's next renewal hears of it, once.
    expect(await store.acquireLease('journal', 'h2', 60_000)).toBeUndefined();
    expect(await store.acquireLease('journal', 'h1', 60_000, { renew: true, advance: true })).toEqual({ previousOwner: 'h1', position: 2, contended: true });
    expect(await store.acquireLease('journal', 'h1', 60_000, { renew: true })).toEqual({ previousOwner: 'h1', position: 2, contended: false });
    await store.putLeaseEntry('journal', 2, { members: ['b'] });
    await store.releaseLease('journal', 'h1');
    expect(await store.acquireLease('journal', 'h2', 60_000)).toEqual({ previousOwner: 'h1', position: 2, contended: false });
    expect(await store.getLeaseEntries('journal', [1, 2, 3])).toEqual(new Map([[1, { members: ['a'] }], [2, { members: ['b'] }]]));
    // Far enough on, a position's slot is reused: the old entry is gone, not mistaken for another.
    await store.putLeaseEntry('journal', 1 + LEASE_JOURNAL_SIZE, { members: ['c'] });
    expect(await store.getLeaseEntries('journal', [1, 1 + LEASE_JOURNAL_SIZE])).toEqual(new Map([[1 + LEASE_JOURNAL_SIZE, { members: ['c'] }]]));
  });
});
