/**
 * Delay before reconnect attempt `attempt` (0-based): doubling from `baseMs` up to `maxMs`,
 * with up to 20 % jitter from `random` so several routers do not hammer etcd in step.
 */
export function reconnectDelay(attempt: number, baseMs = 100, maxMs = 5000, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(exp * (0.8 + 0.2 * random()));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
