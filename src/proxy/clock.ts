/** Time as the proxy sees it, passed in so a test can drive it. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(handle: NodeJS.Timeout): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};

/** The timers of one owner (a session), all cleared at once when it ends. */
export class TimerSet {
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(private readonly clock: Clock) {}

  after(ms: number, fn: () => void): NodeJS.Timeout {
    const handle = this.clock.setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, ms);
    this.pending.add(handle);
    return handle;
  }

  cancel(handle: NodeJS.Timeout | undefined): void {
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.pending.delete(handle);
  }

  clear(): void {
    for (const handle of this.pending) this.clock.clearTimeout(handle);
    this.pending.clear();
  }
}
