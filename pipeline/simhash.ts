/**
 * 64-bit SimHash (Charikar 2002) for near-duplicate detection: copies and light edits of one story
 * differ in a few bits, unrelated texts in about half. Kept as two 32-bit halves, since BigInt
 * arithmetic would dominate the cost on short Weibo posts.
 */

export const SIMHASH_BITS = 64;

/** FNV-1a with two offset bases: two independent 32-bit hashes make one 64-bit feature hash. */
function featureHash(feature: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < feature.length; i++) {
    const c = feature.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193);
  }
  // A final avalanche so that features differing in one character differ in many bits.
  return [avalanche(h1), avalanche(h2 ^ 0x9e3779b9)];
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The fingerprint of weighted features (e.g. tokens with their counts), as 16 hex digits. */
export function simhash(features: Iterable<[feature: string, weight: number]>): string {
  const sums = new Float64Array(SIMHASH_BITS);
  for (const [feature, weight] of features) {
    const [hi, lo] = featureHash(feature);
    for (let bit = 0; bit < 32; bit++) {
      sums[bit] += (hi >>> bit) & 1 ? weight : -weight;
      sums[bit + 32] += (lo >>> bit) & 1 ? weight : -weight;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (sums[bit]! > 0) hi |= 1 << bit;
    if (sums[bit + 32]! > 0) lo |= 1 << bit;
  }
  return hex32(hi >>> 0) + hex32(lo >>> 0);
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function popcount32(n: number): number {
  n -= (n >>> 1) & 0x55555555;
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (Math.imul((n + (n >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

export function hammingDistance(a: string, b: string): number {
  return (
    popcount32(parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) +
    popcount32(parseInt(a.slice(8, 16), 16) ^ parseInt(b.slice(8, 16), 16))
  );
}

/**
 * Splits a fingerprint into `count` bands: two fingerprints within `count - 1` bits of each other
 * share at least one band exactly (pigeonhole), so candidates are found by exact lookups.
 */
export function simhashBands(hash: string, count = 4): string[] {
  const width = SIMHASH_BITS / 4 / count;
  return Array.from({ length: count }, (_, i) => `${i}:${hash.slice(i * width, (i + 1) * width)}`);
}

/** Features counted: repeated tokens weigh more, as in the original SimHash. */
export function countFeatures(tokens: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}
