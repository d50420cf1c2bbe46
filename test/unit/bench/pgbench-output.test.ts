import { describe, expect, it } from 'vitest';
import { latenciesOfScript, parsePgbenchSummary, parseTransactionLog } from '../../../bench/pgbench-output.js';

// Printed by pgbench 15.20 on this machine.
const selectOnly = `pgbench (15.20 (Debian 15.20-0+deb12u1))
starting vacuum...end.
transaction type: <builtin: select only>
scaling factor: 1
query mode: simple
number of clients: 2
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 151450
number of failed transactions: 0 (0.000%)
latency average = 0.026 ms
initial connection time = 5.296 ms
tps = 75793.062170 (without initial connection time)
`;

const churn = `number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 746
number of failed transactions: 0 (0.000%)
latency average = 5.363 ms
average connection time = 4.147 ms
tps = 372.907333 (including reconnection times)
`;

describe('pgbench summary', () => {
  it('reads tps, latency, transaction counts and the initial connection time', () => {
    expect(parsePgbenchSummary(selectOnly)).toEqual({
      transactions: 151450,
      failedTransactions: 0,
      tps: 75793.06217,
      latencyAverageMs: 0.026,
      connectionTimeMs: 5.296,
      errors: [],
    });
  });

  it('reads the average connection time of a -C run', () => {
    const s = parsePgbenchSummary(churn);
    expect(s.tps).toBeCloseTo(372.907333);
    expect(s.connectionTimeMs).toBe(4.147);
  });

  it('keeps client aborts and errors printed before the summary', () => {
    const s = parsePgbenchSummary(
      'pgbench: error: client 3 script 0 aborted in command 1 query 0: FATAL:  terminating connection\n' +
        'number of failed transactions: 12 (0.100%)\n' +
        'tps = 10.0 (without initial connection time)\n',
    );
    expect(s.errors).toHaveLength(1);
    expect(s.failedTransactions).toBe(12);
    expect(s.latencyAverageMs).toBeNaN();
  });

  it('says what it saw when there is no tps line', () => {
    expect(() => parsePgbenchSummary('pgbench: error: connection to server failed\n')).toThrow(/no "tps =" line.*connection to server failed/);
  });
});

describe('pgbench per-transaction log', () => {
  it('takes the third column as latency in µs and counts failed and skipped transactions', () => {
    const log = parseTransactionLog(
      ['0 1 927 0 1795704048 346569', '0 2 145 0 1795704048 346728', '1 3 failed 0 1795704048 346819', '1 4 skipped 0 1795704048 346820 12', '', 'garbage'].join('\n'),
    );
    expect(log.latenciesUs).toEqual([927, 145]);
    expect(log.notCompleted).toBe(2);
    expect(log.unreadable).toBe(1);
  });

  it('accumulates several thread files into one log', () => {
    const first = parseTransactionLog('0 1 10 0 1 1\n');
    const both = parseTransactionLog('1 1 20 0 1 1\n', first);
    expect(both.latenciesUs).toEqual([10, 20]);
  });
});

// As pgbench 15.18 printed it here for -f read.sql@9 -f write.sql@1, 8 clients, -T 5 (script paths,
// the scale, the total latency and a failure count changed for the test).
const mixed = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: multiple scripts
scaling factor: 10
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 5 s
number of transactions actually processed: 33926
number of failed transactions: 0 (0.000%)
latency average = 1.166 ms
initial connection time = 12.102 ms
tps = 6843.162959 (without initial connection time)
SQL script 1: /tmp/x/split-read.sql
 - weight: 9 (targets 90.0% of total)
 - 30614 transactions (90.2% of total, tps = 6175.104369)
 - number of failed transactions: 0 (0.000%)
 - latency average = 0.262 ms
 - latency stddev = 0.250 ms
SQL script 2: /tmp/x/split-write.sql
 - weight: 1 (targets 10.0% of total)
 - 3304 transactions (9.7% of total, tps = 666.444922)
 - number of failed transactions: 2 (0.060%)
 - latency average = 0.918 ms
 - latency stddev = 0.584 ms
`;

describe('pgbench with two weighted scripts', () => {
  it("reads each script's weight, transactions, failures and latency beside the totals", () => {
    const s = parsePgbenchSummary(mixed);
    expect(s.transactions).toBe(33926);
    expect(s.tps).toBeCloseTo(6843.162959);
    expect(s.scripts).toEqual([
      { name: '/tmp/x/split-read.sql', weight: 9, transactions: 30614, failedTransactions: 0, latencyAverageMs: 0.262 },
      { name: '/tmp/x/split-write.sql', weight: 1, transactions: 3304, failedTransactions: 2, latencyAverageMs: 0.918 },
    ]);
  });

  it('has no script list for a single-script run', () => {
    expect(parsePgbenchSummary('number of transactions actually processed: 3\ntps = 1.5 (without initial connection time)\n').scripts).toBeUndefined();
  });

  it("keeps each logged transaction's script number, so latencies can be taken per script", () => {
    const log = parseTransactionLog(['0 1 1247 0 1796123293 636867', '1 1 2414 1 1796123293 638053', '1 2 98 0 1796123293 636988', '2 7 failed 1 1796123293 636990'].join('\n'));
    expect(log.scriptNumbers).toEqual([0, 1, 0]);
    expect(latenciesOfScript(log, 0)).toEqual([1247, 98]);
    expect(latenciesOfScript(log, 1)).toEqual([2414]);
    expect(log.notCompleted).toBe(1);
  });
});
