/** Human progress lines for long steps (maven fetch, waiting for readiness); not structured logs. */
export type Progress = (message: string) => void;

export const noProgress: Progress = () => {};

/** stderr, so command output on stdout stays clean. */
export const stderrProgress: Progress = (message) => {
  process.stderr.write(`[infra] ${message}\n`);
};

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}
