import { bands, minhash, similarity, trigrams } from '../../pipeline/minhash';

// Real 新闻联播 text (china-data/xwlb, MIT), a wire copy with light edits, and an unrelated story.
const ORIGINAL =
  '国务院新闻办公室今天举行新闻发布会，介绍今年以来防汛抗旱工作情况。据介绍，入汛以来，全国共有多条河流发生超警以上洪水，' +
  '各地各部门坚持人民至上、生命至上，提前转移避险群众，全力做好抢险救灾各项工作，最大限度减少人员伤亡和财产损失。';
const EDITED = ORIGINAL.replace('今天', '21日').replace('多条', '300余条').replace('各项工作', '工作');
const TRADITIONAL = '國務院新聞辦公室今天舉行新聞發布會，介紹今年以來防汛抗旱工作情況。據介紹，入汛以來，全國共有多條河流發生超警以上洪水，' +
  '各地各部門堅持人民至上、生命至上，提前轉移避險群眾，全力做好搶險救災各項工作，最大限度減少人員傷亡和財產損失。';
const UNRELATED = '四川凉山州木里县发生森林火灾，当地组织专业扑火队伍和消防救援力量全力扑救，目前火势已得到有效控制，未造成人员伤亡。';

const fp = (text: string) => minhash(trigrams(text))!;

describe('MinHash fingerprints', () => {
  it('are stable: 64 hashes, the same for the same text in every run', () => {
    expect(fp(ORIGINAL)).toMatch(/^[0-9a-f]{512}$/);
    expect(fp(ORIGINAL)).toBe(fp(`  ${ORIGINAL}！`));
    expect(similarity(fp(ORIGINAL), fp(ORIGINAL))).toBe(1);
  });

  it('keep a lightly edited or Traditional copy close and an unrelated story far', () => {
    expect(similarity(fp(ORIGINAL), fp(EDITED))).toBeGreaterThanOrEqual(0.7);
    expect(similarity(fp(ORIGINAL), fp(TRADITIONAL))).toBeGreaterThanOrEqual(0.9);
    expect(similarity(fp(ORIGINAL), fp(UNRELATED))).toBeLessThan(0.2);
  });

  it('put copies in a shared band and unrelated texts in none', () => {
    const shared = (a: string, b: string) => bands(fp(a)).filter((x) => bands(fp(b)).includes(x)).length;
    expect(bands(fp(ORIGINAL))).toHaveLength(16);
    expect(shared(ORIGINAL, EDITED)).toBeGreaterThan(0);
    expect(shared(ORIGINAL, UNRELATED)).toBe(0);
  });

  it('give no fingerprint to texts too short to tell apart', () => {
    expect(minhash(trigrams('转发微博'))).toBeUndefined();
    expect(minhash(trigrams('//@央视新闻: 转发'))).toBeUndefined();
  });
});
