import { describe, expect, it } from 'vitest';
import { median, percentileOfSorted, ratio, summarise } from '../../../bench/statistics.js';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles, so p99 of 1..100 is 99 and of 1..1000 is 990', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOfSorted(hundred, 99)).toBe(99);
    expect(percentileOfSorted(hundred, 50)).toBe(50);
    expect(percentileOfSorted(hundred, 100)).toBe(100);
    expect(percentileOfSorted(hundred, 0)).toBe(1);
    expect(
      percentileOfSorted(
        Array.from({ length: 1000 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(990);
    expect(percentileOfSorted([7], 99)).toBe(7);
    expect(percentileOfSorted([], 99)).toBeNaN();
  });

  it('summarises unsorted samples numerically, not as strings', () => {
    const s = summarise([900, 80, 1000, 7, 10]);
    expect(s).toEqual({ count: 5, mean: 399.4, p50: 80, p99: 1000, max: 1000 });
    expect(summarise([]).count).toBe(0);
  });

  it('takes medians of odd and even counts, ignoring missing values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('gives NaN for ratios that cannot be stated', () => {
    expect(ratio(95, 100)).toBeCloseTo(0.95);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(undefined, 3)).toBeNaN();
    expect(ratio(Number.NaN, 3)).toBeNaN();
  });
});
