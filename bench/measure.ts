/**
 * Timing helpers for the benchmarks: run a function until a time budget or an iteration cap is
 * spent (after warm-up runs) and report the median, so one slow outlier (a GC pause, another
 * process on the shared cores) does not move the figure.
 */

export interface Timing {
  median_ms: number;
  min_ms: number;
  runs: number;
}

export interface Budget {
  warmup: number;
  /** Stop after this many measured runs... */
  maxRuns: number;
  /** ...or once this much time was spent measuring (at least `minRuns` runs). */
  maxMs: number;
  minRuns: number;
}

export const DEFAULT_BUDGET: Budget = { warmup: 20, maxRuns: 2000, maxMs: 1500, minRuns: 5 };

/**
 * DEFAULT_BUDGET with the warm-up cut to about 300 ms (at least 2 runs) for a function whose
 * first run is slow, so that a model taking a second per run does not spend 20 s warming up.
 */
export async function adaptiveBudget(fn: () => unknown): Promise<Budget> {
  const t0 = performance.now();
  await fn();
  const first = performance.now() - t0;
  return { ...DEFAULT_BUDGET, warmup: Math.max(2, Math.min(DEFAULT_BUDGET.warmup, Math.ceil(300 / first))) };
}

function summarize(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median_ms: median, min_ms: sorted[0], runs: sorted.length };
}

export function timeSync(fn: () => unknown, budget: Budget = DEFAULT_BUDGET): Timing {
  for (let i = 0; i < budget.warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < budget.maxRuns && (times.length < budget.minRuns || performance.now() - start < budget.maxMs)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return summarize(times);
}

export async function timeAsync(fn: () => Promise<unknown>, budget: Budget = DEFAULT_BUDGET): Promise<Timing> {
  for (let i = 0; i < budget.warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < budget.maxRuns && (times.length < budget.minRuns || performance.now() - start < budget.maxMs)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return summarize(times);
}
