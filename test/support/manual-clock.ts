/** A clock the test moves by hand: `now()` stays put until `advance(ms)`. */
export interface ManualClock {
  now(): number;
  /** Moves the clock on; returns the new time. */
  advance(ms: number): number;
}

export function manualClock(start = 0): ManualClock {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}
