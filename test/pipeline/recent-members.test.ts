import { RecentMembers } from '../../pipeline/cluster';

/**
 * A process skips the store's candidate lookups for a document only while its memory holds every
 * decision within that document's window (docs/pipeline.md): not for times others decided, nor for
 * times it has forgotten.
 */
describe('RecentMembers coverage', () => {
  const hour = 3_600_000;
  const at = (h: number) => new Date(Date.UTC(2026, 4, 1) + h * hour).toISOString();

  it('covers everything until told that others decided documents, then only past their window', () => {
    const recent = new RecentMembers();
    expect(recent.covers(Date.parse(at(0)), 72 * hour)).toBe(true);
    recent.unseenUpTo(Date.parse(at(10)));
    expect(recent.covers(Date.parse(at(82)), 72 * hour)).toBe(false);
    expect(recent.covers(Date.parse(at(82)) + 1, 72 * hour)).toBe(true);
    // An earlier time never lowers the mark.
    recent.unseenUpTo(Date.parse(at(1)));
    expect(recent.covers(Date.parse(at(82)), 72 * hour)).toBe(false);
  });

  it('stops covering the window of a document it evicted', () => {
    const recent = new RecentMembers(2);
    recent.add({ id: 'a', cluster_id: 'c', published_at: at(5) }, ['0:1']);
    recent.add({ id: 'b', cluster_id: 'c', published_at: at(1) }, ['0:1']);
    expect(recent.covers(Date.parse(at(6)), hour)).toBe(true);
    recent.add({ id: 'c', cluster_id: 'c', published_at: at(2) }, ['0:1']);
    expect(recent.get('a')).toBeUndefined();
    expect(recent.withBands(['0:1']).map((m) => m.id).sort()).toEqual(['b', 'c']);
    expect(recent.covers(Date.parse(at(6)), hour)).toBe(false);
    expect(recent.covers(Date.parse(at(6)) + 1, hour)).toBe(true);
  });
});
