/** Summary statistics for latency samples and repeated measurements. Pure. */

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0..100) of ascending-sorted values, nearest-rank method: the smallest
 * value with at least p% of the samples at or below it, so p99 is always a real sample.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export function sortedAscending(values: readonly number[]): number[] {
  // Float64Array sorts numerically and much faster than Array#sort with a comparator
  // on the hundreds of thousands of samples a pgbench log holds.
  return Array.from(Float64Array.from(values).sort());
}

export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, mean: Number.NaN, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = sortedAscending(values);
  let total = 0;
  for (const v of sorted) total += v;
  return {
    count: sorted.length,
    mean: total / sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1] as number,
  };
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = sortedAscending(finite);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** a / b, or NaN when either is missing or b is zero (a ratio that can't be stated). */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}
