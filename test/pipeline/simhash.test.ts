import { countFeatures, hammingDistance, simhash, simhashBands } from '../../pipeline/simhash';

// Real 新闻联播 text (china-data/xwlb, MIT), a wire copy with light edits, and an unrelated story.
const ORIGINAL =
  '国务院新闻办公室今天举行新闻发布会，介绍今年以来防汛抗旱工作情况。据介绍，入汛以来，全国共有多条河流发生超警以上洪水，' +
  '各地各部门坚持人民至上、生命至上，提前转移避险群众，全力做好抢险救灾各项工作，最大限度减少人员伤亡和财产损失。';
const EDITED = ORIGINAL.replace('今天', '21日').replace('多条', '300余条').replace('各项工作', '工作');
const UNRELATED = '四川凉山州木里县发生森林火灾，当地组织专业扑火队伍和消防救援力量全力扑救，目前火势已得到有效控制，未造成人员伤亡。';

/** Character bigrams stand in for tokens here; the pipeline feeds jieba tokens. */
function fingerprint(text: string): string {
  const grams: string[] = [];
  for (let i = 0; i + 2 <= text.length; i++) grams.push(text.slice(i, i + 2));
  return simhash(countFeatures(grams));
}

describe('simhash', () => {
  it('gives identical text the same 64-bit fingerprint', () => {
    expect(fingerprint(ORIGINAL)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(ORIGINAL)).toBe(fingerprint(ORIGINAL));
  });

  it('keeps a lightly edited copy within a few bits, and an unrelated story far away', () => {
    const near = hammingDistance(fingerprint(ORIGINAL), fingerprint(EDITED));
    const far = hammingDistance(fingerprint(ORIGINAL), fingerprint(UNRELATED));
    expect(near).toBeLessThanOrEqual(6);
    expect(far).toBeGreaterThan(16);
  });

  it('counts bit differences exactly', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('0000000000000001', '8000000000000000')).toBe(2);
    expect(hammingDistance('00000000f0000000', '0000000000000000')).toBe(4);
  });

  it('bands: fingerprints within 3 bits share a band', () => {
    const a = 'a1b2c3d4e5f60718';
    const b = 'a1b2c3d4e5f60719'.replace(/^a/, 'b').replace('c3', 'c2'); // bits flipped in three bands
    expect(hammingDistance(a, b)).toBeLessThanOrEqual(3);
    expect(simhashBands(a).filter((band) => simhashBands(b).includes(band)).length).toBeGreaterThanOrEqual(1);
    expect(simhashBands(a)).toEqual(['0:a1b2', '1:c3d4', '2:e5f6', '3:0718']);
  });
});
