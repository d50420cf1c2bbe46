import { describe, expect, it } from 'vitest';
import { refusals, type Refusal } from '../../../src/proxy/refusal.js';
import { RouterMetrics } from '../../../src/observe/metrics.js';
import type { ListenerSessions } from '../../../src/proxy/proxy-server.js';
import { buildState } from '../../../src/topology/build-state.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { parseClusterKeys } from '../../../src/topology/parse-cluster-keys.js';
import { applyStep, loadFixture } from '../topology/fixture-replay.js';

async function value(metrics: RouterMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(`patroni_router_${name}`);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  const hit = data.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value;
}

const session = { listener: 'primary', member: 'pg0', clientAddress: '127.0.0.1:5555' };

/** States from the recorded switchover, with the clock of the recording. */
function switchoverStates(): Array<{ tMs: number; previous: ClusterState | undefined; next: ClusterState; changes: string[] }> {
  const keys = new Map<string, string>();
  let previous: ClusterState | undefined;
  const out = [];
  for (const step of loadFixture('switchover.jsonl')) {
    applyStep(keys, step);
    const built = buildState(
      {
        scope: 'batman',
        namespace: '/service/',
        parsed: parseClusterKeys(keys),
        observations: new Map(),
        memberKeyChangedAt: new Map(),
        lastDcsContact: step.tMs,
        stale: false,
        now: step.tMs,
        observationMaxAgeMs: 3000,
        dcsLossWrites: 'ttl',
      },
      previous,
    );
    if (built.changes.length > 0) out.push({ tMs: step.tMs, previous, next: built.state, changes: built.changes });
    previous = built.state;
  }
  return out;
}

/** The proxy's `refused` event for a refusal from the catalog. */
const refusedOn = (listener: string, r: Refusal): { listener: string; kind: Refusal['kind']; sqlstate: string; reason: string } => ({
  listener,
  kind: r.kind,
  sqlstate: r.sqlstate,
  reason: r.message,
});

describe('RouterMetrics', () => {
  it('moves connection, byte and cancel metrics on proxy events', async () => {
    const m = new RouterMetrics({ defaultMetrics: false });
    m.connectionAccepted({ listener: 'primary' });
    m.connectionAccepted({ listener: 'primary' });
    m.sessionStarted(session);
    expect(await value(m, 'connections_accepted_total', { listener: 'primary' })).toBe(2);
    m.sessionEnded({ ...session, durationMs: 10, bytesIn: 100, bytesOut: 2000, ending: 'client-closed' });
    expect(await value(m, 'bytes_relayed_total', { listener: 'primary', direction: 'client_to_server' })).toBe(100);
    expect(await value(m, 'bytes_relayed_total', { listener: 'primary', direction: 'server_to_client' })).toBe(2000);
    expect(await value(m, 'sessions_ended_total', { listener: 'primary', ending: 'client-closed' })).toBe(1);
    m.cancel({ listener: 'primary', outcome: 'forwarded' });
    expect(await value(m, 'cancel_requests_total', { outcome: 'forwarded' })).toBe(1);
  });

  it("reads the session and held gauges from the proxy's own sessions at scrape time, so they cannot drift", async () => {
    let snapshot: ListenerSessions[] = [{ listener: 'primary', cluster: 'batman', retired: false, total: 5, held: 3, byPhase: { holding: 3, relaying: 2 }, byMember: { pg0: 2 } }];
    const m = new RouterMetrics({ defaultMetrics: false, sessions: () => snapshot });
    // Events of a refused connection that never had a member must not move them.
    m.sessionStarted(session);
    m.sessionEnded({ ...session, member: '', durationMs: 1, bytesIn: 0, bytesOut: 0, ending: 'refused' });
    expect(await value(m, 'sessions', { listener: 'primary', member: 'pg0' })).toBe(2);
    expect(await value(m, 'sessions', { listener: 'primary', member: '' })).toBeUndefined();
    expect(await value(m, 'held_connections', { listener: 'primary' })).toBe(3);
    snapshot = [{ ...snapshot[0]!, total: 0, held: 0, byPhase: {}, byMember: {} }];
    expect(await value(m, 'sessions', { listener: 'primary', member: 'pg0' })).toBeUndefined();
    expect(await value(m, 'held_connections', { listener: 'primary' })).toBe(0);
  });

  it("reads a split listener's replica links per member at scrape time; other listeners have none", async () => {
    const split = { units: { primary: 0, replica: 0 }, primaryReasons: {}, retriedOnPrimary: 0, pinned: {} };
    const base = { cluster: 'batman', retired: false, total: 3, held: 0, byPhase: {}, byMember: { pg0: 3 } };
    let snapshot: ListenerSessions[] = [
      { ...base, listener: 'app', split: { ...split, replicaLinks: { pg1: 2, pg2: 1 } } },
      { ...base, listener: 'primary' },
    ];
    const m = new RouterMetrics({ defaultMetrics: false, sessions: () => snapshot });
    expect(await value(m, 'split_replica_links', { listener: 'app', member: 'pg1' })).toBe(2);
    expect(await value(m, 'split_replica_links', { listener: 'app', member: 'pg2' })).toBe(1);
    expect(await value(m, 'split_replica_links', { listener: 'primary' })).toBeUndefined();
    snapshot = [{ ...base, listener: 'app', split: { ...split, replicaLinks: { pg2: 1 } } }];
    expect(await value(m, 'split_replica_links', { listener: 'app', member: 'pg1' })).toBeUndefined();
    expect(await value(m, 'split_replica_links', { listener: 'app', member: 'pg2' })).toBe(1);
  });

  it('keeps per-session counters as plain numbers that every scrape reads whole, never twice', async () => {
    const m = new RouterMetrics({ defaultMetrics: false });
    for (let i = 0; i < 3; i++) m.sessionEnded({ ...session, durationMs: 1, bytesIn: 10, bytesOut: 20, ending: 'client-closed' });
    m.sessionEnded({ ...session, listener: 'replicas', durationMs: 1, bytesIn: 1, bytesOut: 2, ending: 'fenced' });
    for (let scrape = 0; scrape < 2; scrape++) {
      expect(await value(m, 'sessions_ended_total', { listener: 'primary', ending: 'client-closed' })).toBe(3);
      expect(await value(m, 'sessions_ended_total', { listener: 'replicas', ending: 'fenced' })).toBe(1);
      expect(await value(m, 'bytes_relayed_total', { listener: 'primary', direction: 'server_to_client' })).toBe(60);
    }
    m.unitRouted({ listener: 'split', destination: 'replica', reason: 'read' });
    expect(await m.registry.getSingleMetricAsString('patroni_router_statements_routed_total')).toContain(
      'patroni_router_statements_routed_total{listener="split",destination="replica",reason="read"} 1',
    );
  });

  it('labels refusals with their kind from the refusal catalog (a short bounded set)', async () => {
    const m = new RouterMetrics({ defaultMetrics: false });
    m.refused(refusedOn('primary', refusals.noCandidate('primary', 'no primary in cluster batman: leader election in progress')));
    m.refused(refusedOn('primary', refusals.noCandidate('primary', 'no primary in cluster batman', 30_000)));
    m.refused(refusedOn('replicas', refusals.targetRefused('replicas', 'unknown router.target "bogus"', true)));
    m.refused(refusedOn('replicas', refusals.startupTimeout()));
    expect(await value(m, 'connections_refused_total', { listener: 'primary', reason: 'no_candidate' })).toBe(1);
    expect(await value(m, 'connections_refused_total', { listener: 'primary', reason: 'hold_timeout' })).toBe(1);
    expect(await value(m, 'connections_refused_total', { listener: 'replicas', reason: 'target_not_allowed' })).toBe(1);
    expect(await value(m, 'connections_refused_total', { listener: 'replicas', reason: 'startup_timeout' })).toBe(1);
  });

  it('tracks how long held connections waited', async () => {
    const m = new RouterMetrics({ defaultMetrics: false });
    m.holdStarted({ listener: 'primary' });
    m.holdEnded({ listener: 'primary', waitedMs: 1500, outcome: 'proceeded' });
    const text = await m.registry.getSingleMetricAsString('patroni_router_hold_wait_seconds');
    expect(text).toContain('patroni_router_hold_wait_seconds_sum{listener="primary",outcome="proceeded"} 1.5');
    expect(text).toContain('patroni_router_hold_wait_seconds_count{listener="primary",outcome="proceeded"} 1');
  });

  it('exposes roles, lag, generation and DCS health of the latest snapshot, and times the switchover phases', async () => {
    let now = 0;
    const steps: string[] = [];
    const m = new RouterMetrics({ defaultMetrics: false, now: () => now, clusterOfListener: () => 'batman', onFailoverStep: (_c, s) => steps.push(s.type) });
    const states = switchoverStates();
    for (const change of states) {
      now = change.tMs;
      m.observeState(change);
    }
    const last = states[states.length - 1]!.next;
    expect(await value(m, 'topology_generation', { cluster: 'batman' })).toBe(last.generation);
    expect(await value(m, 'member_role', { cluster: 'batman', member: 'pg1', role: 'primary' })).toBe(1);
    expect(await value(m, 'member_role', { cluster: 'batman', member: 'pg0', role: 'primary' })).toBeUndefined();
    expect(await value(m, 'dcs_watch_state', { cluster: 'batman', state: 'connected' })).toBe(1);
    expect(await value(m, 'dcs_watch_state', { cluster: 'batman', state: 'reconnecting' })).toBe(0);
    now = last.lastDcsContact + 2500;
    expect(await value(m, 'dcs_last_contact_seconds', { cluster: 'batman' })).toBe(2.5);

    m.fenced({ listener: 'primary', member: 'pg0', reason: 'demoted' });
    expect(await value(m, 'fenced_sessions_total', { listener: 'primary', member: 'pg0' })).toBe(1);
    now = 5000;
    m.sessionStarted({ ...session, member: 'pg1' });
    const text = await m.registry.getSingleMetricAsString('patroni_router_failover_phase_seconds');
    expect(text).toContain(`patroni_router_failover_phase_seconds_sum{cluster="batman",phase="demote_begun"} ${(1600 - 1459) / 1000}`);
    expect(text).toContain(`patroni_router_failover_phase_seconds_sum{cluster="batman",phase="old_primary_fenced"} ${(2736 - 1459) / 1000}`);
    expect(text).toContain(`patroni_router_failover_phase_seconds_sum{cluster="batman",phase="new_primary_usable"} ${(4184 - 1459) / 1000}`);
    expect(text).toContain(`patroni_router_failover_phase_seconds_sum{cluster="batman",phase="first_session_routed"} ${(5000 - 1459) / 1000}`);
    expect(await value(m, 'failovers_total', { cluster: 'batman' })).toBe(1);
    expect(steps).toEqual(['started', 'phase', 'phase', 'phase', 'phase', 'ended']);
    expect(m.failoverEpisodes()['batman']).toMatchObject({ oldPrimary: 'pg0', newPrimary: 'pg1', outcome: 'complete' });
  });

  it('reads DCS health from the router when given, and keeps two routers apart', async () => {
    const a = new RouterMetrics({ now: () => 10_000, dcsHealth: () => [{ scope: 'batman', watch: 'reconnecting', lastContact: 4000 }] });
    const b = new RouterMetrics();
    a.connectionAccepted({ listener: 'primary' });
    expect(await value(a, 'dcs_last_contact_seconds', { cluster: 'batman' })).toBe(6);
    expect(await value(a, 'dcs_watch_state', { cluster: 'batman', state: 'reconnecting' })).toBe(1);
    expect(await value(b, 'connections_accepted_total', { listener: 'primary' })).toBeUndefined();
    const text = await a.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('patroni_router_connections_accepted_total{listener="primary"} 1');
  });
});
