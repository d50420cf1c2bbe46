import { inspect } from 'node:util';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Extra text for the timeout error, e.g. the tail of the relevant logs. */
  diagnostics?: () => Promise<string> | string;
}

function describeLast(lastError: unknown, lastValue: unknown): string {
  if (lastError !== undefined) return lastError instanceof Error ? lastError.message : String(lastError);
  return inspect(lastValue, { depth: 4, breakLength: Infinity });
}

/**
 * Polls `probe` until it returns a truthy value and resolves with it. A probe that throws counts
 * as "not yet"; its error is reported if the wait times out.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      lastError = undefined;
      lastValue = value;
    } catch (error) {
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      let extra = '';
      if (opts.diagnostics) {
        try {
          extra = await opts.diagnostics();
        } catch (error) {
          extra = `(diagnostics failed: ${String(error)})`;
        }
      }
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; last: ${describeLast(lastError, lastValue)}` + (extra ? `\n${extra}` : ''));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
}
