/**
 * What a writer saw during a switchover or crash, and the measures drawn from it. Pure: the
 * writers (writer.ts, oracle-writer.ts) record attempts; this file judges them.
 */

export interface WriteAttempt {
  /** Epoch ms when the attempt started and when its outcome was known. */
  startedAt: number;
  at: number;
  /** 'connect': opening a new session; 'insert': one INSERT on an open session. */
  step: 'connect' | 'insert';
  ok: boolean;
  /** Server SQLSTATE, or the Node error code (ECONNRESET, ...) / 'timeout' for transport failures. */
  code?: string;
  message?: string;
  /** The member that took the write, when the writer knows (the oracle does). */
  member?: string;
  /** Id of the inserted row, to check later that an acknowledged write survived. */
  rowId?: number;
}

export const READ_ONLY_TRANSACTION = '25006';

export interface WriteOutage {
  /** Longest time between two successful writes, among gaps that end after the event began. */
  longestGapMs: number;
  /** Start and end of that gap, ms relative to the event. */
  gapFromMs: number;
  gapToMs: number;
  /** False when no write succeeded after the event (the gap then runs to the last attempt). */
  recovered: boolean;
  attempts: number;
  successes: number;
  /** Failed attempts by SQLSTATE (or transport code). */
  errorsByCode: Record<string, number>;
  /** Writes that reached a member that is not the primary (SQLSTATE 25006). */
  writesToNonPrimary: number;
  failedConnects: number;
  /** One message per code, so a reader sees what each code meant. */
  sampleMessages: Record<string, string>;
}

function codeOf(attempt: WriteAttempt): string {
  return attempt.code ?? 'unknown';
}

export function judgeWrites(attempts: readonly WriteAttempt[], eventAt: number): WriteOutage {
  const ordered = [...attempts].sort((a, b) => a.at - b.at);
  const successes = ordered.filter((a) => a.step === 'insert' && a.ok).map((a) => a.at);
  const errorsByCode: Record<string, number> = {};
  const sampleMessages: Record<string, string> = {};
  let writesToNonPrimary = 0;
  let failedConnects = 0;
  for (const attempt of ordered) {
    if (attempt.ok) continue;
    const code = codeOf(attempt);
    errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
    if (attempt.message && sampleMessages[code] === undefined) sampleMessages[code] = attempt.message;
    if (attempt.step === 'connect') failedConnects++;
    if (attempt.step === 'insert' && code === READ_ONLY_TRANSACTION) writesToNonPrimary++;
  }

  // The last success before the event opens the first candidate gap; with none, the event itself.
  let previous = eventAt;
  for (const at of successes) if (at <= eventAt) previous = at;
  let longestGapMs = 0;
  let gapFrom = previous;
  let gapTo = previous;
  let recovered = false;
  for (const at of successes) {
    if (at <= eventAt) continue;
    recovered = true;
    if (at - previous > longestGapMs) {
      longestGapMs = at - previous;
      gapFrom = previous;
      gapTo = at;
    }
    previous = at;
  }
  if (!recovered) {
    const lastAttempt = ordered.at(-1)?.at ?? eventAt;
    longestGapMs = Math.max(0, lastAttempt - previous);
    gapFrom = previous;
    gapTo = previous + longestGapMs;
  }
  return {
    longestGapMs,
    gapFromMs: gapFrom - eventAt,
    gapToMs: gapTo - eventAt,
    recovered,
    attempts: ordered.length,
    successes: successes.length,
    errorsByCode,
    writesToNonPrimary,
    failedConnects,
    sampleMessages,
  };
}

/** Acknowledged row ids that are not in `present` (writes the client was told succeeded, then lost). */
export function lostAcknowledged(attempts: readonly WriteAttempt[], present: ReadonlySet<number>): number[] {
  return attempts.filter((a) => a.step === 'insert' && a.ok && a.rowId !== undefined && !present.has(a.rowId)).map((a) => a.rowId as number);
}

/**
 * Whether every writer has written successfully for `steadyMs` without a failure, up to `now`:
 * the signal that an event is over for everyone and the next round may start.
 */
export function steadySince(attempts: readonly WriteAttempt[], now: number, steadyMs: number): boolean {
  let lastFailure = Number.NEGATIVE_INFINITY;
  let lastSuccess = Number.NEGATIVE_INFINITY;
  for (const a of attempts) {
    if (!a.ok) lastFailure = Math.max(lastFailure, a.at);
    else if (a.step === 'insert') lastSuccess = Math.max(lastSuccess, a.at);
  }
  return now - lastFailure >= steadyMs && now - lastSuccess < 1000 && lastSuccess > lastFailure;
}

/**
 * The code to file a failure under: the server's SQLSTATE when there is one, else the Node
 * error code (ECONNREFUSED, ECONNRESET, ...), else a word for node-postgres's own messages.
 */
export function codeOfError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) return 'timeout';
  if (/terminated unexpectedly|Connection terminated/i.test(message)) return 'connection-terminated';
  if (/ended unexpectedly|not queryable|closed/i.test(message)) return 'connection-closed';
  return 'other';
}
