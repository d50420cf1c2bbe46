/**
 * How long the primary process waits before it starts a worker again in place of one that
 * exited: at once-ish for the first exit, doubling for each that follows quickly, so a worker
 * that cannot start (a crash at boot) does not spin. A worker that ran `stableMs` before it
 * exited starts the count afresh. Pure: the caller says how long the worker ran.
 */
export class RestartBackoff {
  private quickExits = 0;

  constructor(
    private readonly baseMs = 250,
    private readonly maxMs = 30_000,
    private readonly stableMs = 30_000,
  ) {}

  /** The delay before the next start, for a worker that ran `ranMs`. */
  next(ranMs: number): number {
    if (ranMs >= this.stableMs) this.quickExits = 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.quickExits, 20));
    this.quickExits++;
    return delay;
  }
}
