/**
 * Reading what pgbench (PostgreSQL 15) prints and logs. Pure: text in, numbers out.
 *
 * Summary lines we rely on:
 *   number of transactions actually processed: 151450
 *   number of failed transactions: 0 (0.000%)
 *   latency average = 0.026 ms
 *   initial connection time = 5.296 ms          (or, with -C: average connection time = 4.147 ms)
 *   tps = 75793.062170 (without initial connection time)   (with -C: including reconnection times)
 */

export interface PgbenchSummary {
  transactions: number;
  failedTransactions: number;
  tps: number;
  latencyAverageMs: number;
  /** "initial connection time" (normal runs) or "average connection time" (-C). */
  connectionTimeMs?: number;
  /** Lines pgbench printed as errors (client aborts etc.), for the report. */
  errors: string[];
  /** Per script, in order, when pgbench ran several (`-f read.sql@9 -f write.sql@1`). */
  scripts?: ScriptSummary[];
}

/**
 * pgbench's own section per script of a multi-script run:
 *   SQL script 1: read.sql
 *    - weight: 9 (targets 90.0% of total)
 *    - 31996 transactions (90.0% of total, tps = 10683.541649)
 *    - number of failed transactions: 0 (0.000%)
 *    - latency average = 0.262 ms
 * These counts leave out each client's last transaction when -T ends it (pgbench 15 counts
 * those in the total only), so they may add up to a little less than `transactions`.
 */
export interface ScriptSummary {
  name: string;
  weight: number;
  transactions: number;
  failedTransactions: number;
  latencyAverageMs: number;
}

function numberAfter(text: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(text);
  if (!match?.[1]) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

/** Parses pgbench's closing summary; throws naming what is missing when there is no tps line. */
export function parsePgbenchSummary(output: string): PgbenchSummary {
  const tps = numberAfter(output, /^tps = ([0-9.]+)/m);
  if (tps === undefined) {
    const tail = output.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`pgbench printed no "tps =" line; last lines: ${tail || '(nothing)'}`);
  }
  const errors = output
    .split('\n')
    .filter((line) => /^pgbench: (error|fatal)/.test(line) || /^client \d+ aborted/.test(line))
    .slice(0, 20);
  const connectionTimeMs = numberAfter(output, /^initial connection time = ([0-9.]+) ms/m) ?? numberAfter(output, /^average connection time = ([0-9.]+) ms/m);
  const scripts = parseScriptSections(output);
  return {
    transactions: numberAfter(output, /^number of transactions actually processed: (\d+)/m) ?? 0,
    failedTransactions: numberAfter(output, /^number of failed transactions: (\d+)/m) ?? 0,
    tps,
    latencyAverageMs: numberAfter(output, /^latency average = ([0-9.]+) ms/m) ?? Number.NaN,
    ...(connectionTimeMs === undefined ? {} : { connectionTimeMs }),
    errors,
    ...(scripts.length > 0 ? { scripts } : {}),
  };
}

/** The `SQL script N: name` sections, in script order; none for a single-script run. */
function parseScriptSections(output: string): ScriptSummary[] {
  const scripts: ScriptSummary[] = [];
  const sections = output.split(/^SQL script \d+: /m).slice(1);
  for (const section of sections) {
    const name = section.slice(0, section.indexOf('\n') === -1 ? undefined : section.indexOf('\n')).trim();
    scripts.push({
      name,
      weight: numberAfter(section, /^ - weight: (\d+)/m) ?? Number.NaN,
      transactions: numberAfter(section, /^ - (\d+) transactions/m) ?? 0,
      failedTransactions: numberAfter(section, /^ - number of failed transactions: (\d+)/m) ?? 0,
      latencyAverageMs: numberAfter(section, /^ - latency average = ([0-9.]+) ms/m) ?? Number.NaN,
    });
  }
  return scripts;
}

export interface TransactionLog {
  /** Latency of each completed transaction, µs. */
  latenciesUs: number[];
  /** The script number (0-based, the fourth column) of each entry of latenciesUs. */
  scriptNumbers: number[];
  /** Transactions logged as failed or skipped (the time column is a word, not a number). */
  notCompleted: number;
  /** Lines that match no known shape (should be none). */
  unreadable: number;
}

/**
 * Parses pgbench --log per-transaction lines: `client_id transaction_no time script_no
 * time_epoch time_us [schedule_lag] [retries]`, where `time` is the latency in µs, or
 * `failed`/`skipped` for transactions that did not complete.
 */
export function parseTransactionLog(text: string, into: TransactionLog = emptyTransactionLog()): TransactionLog {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const fields = line.split(' ');
    const time = fields[2];
    if (fields.length < 6 || time === undefined) {
      into.unreadable++;
    } else if (time === 'failed' || time === 'skipped') {
      into.notCompleted++;
    } else {
      const latency = Number(time);
      const script = Number(fields[3]);
      if (Number.isFinite(latency) && Number.isInteger(script)) {
        into.latenciesUs.push(latency);
        into.scriptNumbers.push(script);
      } else {
        into.unreadable++;
      }
    }
  }
  return into;
}

export function emptyTransactionLog(): TransactionLog {
  return { latenciesUs: [], scriptNumbers: [], notCompleted: 0, unreadable: 0 };
}

/** The latencies (µs) of one script's transactions. */
export function latenciesOfScript(log: TransactionLog, script: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < log.latenciesUs.length; i++) if (log.scriptNumbers[i] === script) out.push(log.latenciesUs[i] as number);
  return out;
}
