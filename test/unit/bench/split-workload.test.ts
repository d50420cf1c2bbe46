import { describe, expect, it } from 'vitest';
import { MEMBER_COUNTERS_SQL, counterDelta, parseMemberCounters, parseRoutedUnits, servedDuring, serverErrorsBySqlstate } from '../../../bench/split-workload.js';

describe("the members' counters", () => {
  it('asks pg_stat_statements for the calls of the two normalised statements', () => {
    expect(MEMBER_COUNTERS_SQL).toContain("query = 'SELECT aid, abalance FROM pgbench_accounts WHERE aid = $1'");
    expect(MEMBER_COUNTERS_SQL).toContain("query = 'UPDATE pgbench_accounts SET abalance = $1 WHERE aid = $2'");
    expect(parseMemberCounters('32000|3533\n')).toEqual({ reads: 32000, writes: 3533 });
    expect(() => parseMemberCounters('ERROR: relation "pg_stat_statements" does not exist')).toThrow(/unexpected pg_stat_statements reading/);
  });

  it("counts a member's error lines by the SQLSTATE its log_line_prefix prints, not their STATEMENT lines", () => {
    const log = [
      '2026-12-01 11:08:20.731 UTC [31676] sqlstate=25006 ERROR:  cannot execute UPDATE in a read-only transaction',
      '2026-12-01 11:08:20.731 UTC [31676] sqlstate=25006 STATEMENT:  UPDATE pgbench_accounts SET abalance = 1 WHERE aid = 1',
      '2026-12-01 11:08:21.001 UTC [31677] sqlstate=00000 LOG:  checkpoint starting: time',
      '2026-12-01 11:08:21.101 UTC [31678] sqlstate=25006 ERROR:  cannot execute nextval() in a read-only transaction',
      '2026-12-01 11:08:22.000 UTC [31679] sqlstate=57P01 FATAL:  terminating connection due to administrator command',
      '2026-12-01 11:08:22,519 INFO: no action. I am (pg1), a secondary, and following a leader (pg0)',
    ].join('\n');
    expect(serverErrorsBySqlstate(log)).toEqual({ '25006': 2, '57P01': 1 });
    expect(serverErrorsBySqlstate('')).toEqual({});
  });

  it('turns before/after readings into reads per member, the replica share, and writes that reached a replica', () => {
    const served = servedDuring([
      { member: 'pg0', role: 'primary', before: { reads: 100, writes: 50 }, after: { reads: 400, writes: 2050 }, errors: {} },
      { member: 'pg1', role: 'replica', before: { reads: 10, writes: 0 }, after: { reads: 9010, writes: 0 }, errors: { '25006': 1, '57014': 2 } },
      { member: 'pg2', role: 'replica', before: { reads: 0, writes: 0 }, after: { reads: 8700, writes: 0 }, errors: {} },
    ]);
    expect(served.primaryReads).toBe(300);
    expect(served.replicaReads).toBe(17_700);
    expect(served.replicaShare).toBeCloseTo(17_700 / 18_000);
    expect(served.primaryWrites).toBe(2000);
    expect(served.writesOnReplicas).toBe(1);
    expect(served.otherReplicaErrors).toEqual({ '57014': 2 });
    expect(served.members.map((m) => [m.member, m.reads, m.writes])).toEqual([
      ['pg0', 300, 2000],
      ['pg1', 9000, 0],
      ['pg2', 8700, 0],
    ]);
  });

  it('has no share when no read ran', () => {
    const served = servedDuring([{ member: 'pg0', role: 'primary', before: { reads: 5, writes: 0 }, after: { reads: 5, writes: 0 }, errors: { '25006': 3 } }]);
    expect(served.replicaShare).toBeNaN();
    // 25006 on the primary is not a write that reached a replica.
    expect(served.writesOnReplicas).toBe(0);
  });
});

describe("the split listener's routing counters", () => {
  const metrics = [
    '# HELP patroni_router_statements_routed_total Units (a query, an extended-protocol batch) split sessions sent, by destination and reason.',
    '# TYPE patroni_router_statements_routed_total counter',
    'patroni_router_statements_routed_total{listener="split",destination="replica",reason="read"} 18999',
    'patroni_router_statements_routed_total{listener="split",destination="primary",reason="write"} 2349',
    'patroni_router_statements_routed_total{listener="split",destination="primary",reason="consistency"} 2828',
    'patroni_router_statements_routed_total{listener="other",destination="replica",reason="read"} 7',
    'patroni_router_replica_reads_retried_total{listener="split"} 2',
  ].join('\n');

  it("reads one listener's units by destination and reason, and its 25006 retries", () => {
    expect(parseRoutedUnits(metrics, 'split')).toEqual({ routed: { 'replica:read': 18999, 'primary:write': 2349, 'primary:consistency': 2828 }, retried: 2 });
    expect(parseRoutedUnits(metrics, 'none')).toEqual({ routed: {}, retried: 0 });
  });

  it('takes differences, leaving out what did not move', () => {
    expect(counterDelta({ 'replica:read': 10, 'primary:write': 4 }, { 'replica:read': 25, 'primary:write': 4, 'primary:consistency': 3 })).toEqual({
      'replica:read': 15,
      'primary:consistency': 3,
    });
  });
});
