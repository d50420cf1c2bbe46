import { describe, expect, it } from 'vitest';
import { parsePgbenchSummary, parseTransactionLog } from '../../../bench/pgbench-output.js';

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
        'number of failed transactions: 12 (0.100%)\n' + 'tps = 10.0 (without initial connection time)\n',
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
