/** Accuracy and macro-F1 for binary sentiment (1 positive, 0 negative). */

export interface BinaryMetrics {
  n: number;
  accuracy: number;
  /** Mean of the F1 of each class: on skewed sets (weibo2018_test is 69% positive) it shows what accuracy hides. */
  macroF1: number;
}

export class BinaryConfusion {
  /** counts[truth][predicted] */
  readonly #counts = [
    [0, 0],
    [0, 0],
  ] as [[number, number], [number, number]];

  add(truth: 0 | 1, predicted: 0 | 1): void {
    this.#counts[truth][predicted]++;
  }

  metrics(): BinaryMetrics {
    const [[tn, fp], [fn, tp]] = this.#counts;
    const n = tn + fp + fn + tp;
    const f1 = (hit: number, wrongA: number, wrongB: number): number => (hit === 0 ? 0 : (2 * hit) / (2 * hit + wrongA + wrongB));
    return {
      n,
      accuracy: n === 0 ? 0 : (tp + tn) / n,
      macroF1: (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2,
    };
  }
}
