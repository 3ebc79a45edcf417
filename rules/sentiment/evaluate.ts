import type { Tokenizer } from '../tokenizer';
import type { SentimentAnalyzer } from './index';
import { readLabeledCsv } from './labeled-csv';
import { BinaryConfusion, type BinaryMetrics } from './metrics';

/**
 * Scores a labeled CSV (see labeled-csv.ts) and measures accuracy, macro-F1 and speed. A neutral
 * label is read by the sign of its score, since the sets are binary. Speed counts only cutting and
 * scoring, on this one thread, not reading the file; the first record is also run once untimed, so
 * one-off set-up on first use (OpenCC's tables, JIT compilation: ~60 ms) is not taken for per-post cost.
 */

export interface Evaluation extends BinaryMetrics {
  /** Posts cut and scored per second. */
  docsPerSecond: number;
  /** Records skipped because they could not be parsed. */
  badRows: number;
}

export interface EvaluateOptions {
  /** Called for each record that cannot be parsed; it is skipped. */
  onBadRow?: (line: number, error: string) => void;
  /** Called every `progressEvery` scored records. */
  onProgress?: (scored: number) => void;
  /** Default 10,000. */
  progressEvery?: number;
}

export async function evaluateLabeledCsv(
  file: string,
  analyzer: SentimentAnalyzer,
  tokenizer: Tokenizer,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const progressEvery = options.progressEvery ?? 10_000;
  const confusion = new BinaryConfusion();
  let badRows = 0;
  let scored = 0;
  let nanos = 0n;
  for await (const row of readLabeledCsv(file)) {
    if ('error' in row) {
      badRows++;
      options.onBadRow?.(row.line, row.error);
      continue;
    }
    if (scored === 0) analyzer.score(row.text, tokenizer.cut(row.text));
    const started = process.hrtime.bigint();
    const { score } = analyzer.score(row.text, tokenizer.cut(row.text));
    nanos += process.hrtime.bigint() - started;
    confusion.add(row.label, score >= 0 ? 1 : 0);
    if (++scored % progressEvery === 0) options.onProgress?.(scored);
  }
  const seconds = Number(nanos) / 1e9;
  return { ...confusion.metrics(), docsPerSecond: seconds > 0 ? scored / seconds : 0, badRows };
}
