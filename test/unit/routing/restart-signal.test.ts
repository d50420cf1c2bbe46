/**
 * A restart Patroni is about to run on the primary, or runs: from the schedule in its member
 * key (`patronictl restart --scheduled`) and from the key it rewrites without `xlog_location`
 * as the restart starts. Sessions that move pause for it, new write sessions wait for it.
 */
import { describe, expect, it } from 'vitest';
import { chooseBackends, explainListener } from '../../../src/routing/choose-backends.js';
import { restartInProgress, restartUnderWay, scheduledRestartDueIn } from '../../../src/routing/restart-signal.js';
import { SCHEDULED_ACTION_LEAD_MS } from '../../../src/routing/scheduled-time.js';
import { nextScheduledChangeIn } from '../../../src/routing/scheduled-actions.js';
import { primaryGoingDown } from '../../../src/proxy/move/move-target.js';
import { parseMember } from '../../../src/topology/parse-member.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { batman, memory, names, request, withMember } from './cluster-factory.js';

const AT = '2026-11-26T13:00:00+00:00';
const AT_MS = Date.parse(AT);
/** batman has loop_wait 10 s: Patroni drops a schedule more than 15 s stale. */
const STALE_MS = 15_000;

function scheduled(over: Partial<ClusterState> = {}): ClusterState {
  return withMember(batman(over), 'pg0', { version: '3.0.2', walPosition: 100, scheduledRestartAt: AT });
}

describe('the scheduled restart in a member key', () => {
  it('is read from scheduled_restart.schedule, as Patroni writes it', () => {
    const key = JSON.stringify({
      conn_url: 'postgres://127.0.0.1:5432/postgres',
      role: 'master',
      state: 'running',
      xlog_location: 100,
      scheduled_restart: { schedule: AT, postmaster_start_time: '2026-11-26 11:00:00.000 UTC' },
    });
    const { member, problems } = parseMember('pg0', key);
    expect(problems).toEqual([]);
    expect(member.scheduledRestartAt).toBe(AT);
  });

  it('makes a key with an unreadable schedule invalid, naming the field', () => {
    const key = JSON.stringify({ conn_url: 'postgres://127.0.0.1:5432/postgres', role: 'master', state: 'running', scheduled_restart: { schedule: 'soon' } });
    const { member, problems } = parseMember('pg0', key);
    expect(problems).toEqual([expect.stringContaining('scheduled_restart has no valid schedule')]);
    expect(member.invalid).toContain('scheduled_restart');
  });
});

describe('a restart of the primary under way', () => {
  it('is due a little before its time, and stays due until Patroni would drop it as stale', () => {
    const state = scheduled();
    const due = AT_MS - SCHEDULED_ACTION_LEAD_MS;
    expect(scheduledRestartDueIn(state.members[0]!, due - 1)).toBe(1);
    expect(restartUnderWay(state, 'pg0', due - 1)).toBe(false);
    expect(restartUnderWay(state, 'pg0', due)).toBe(true);
    expect(restartUnderWay(state, 'pg0', AT_MS + STALE_MS)).toBe(true);
    expect(restartUnderWay(state, 'pg0', AT_MS + STALE_MS + 1)).toBe(false);
  });

  it('is under way once Patroni 3 or 4 rewrites the key without a WAL position, the schedule gone', () => {
    const started = withMember(batman(), 'pg0', { version: '4.0.7' });
    expect(restartUnderWay(started, 'pg0', AT_MS)).toBe(true);
    expect(primaryGoingDown(started, 'pg0', AT_MS)).toBe('restart');
    // Done: the HA cycle Patroni wakes once the restart is over writes the position again.
    expect(restartUnderWay(withMember(batman(), 'pg0', { version: '4.0.7', walPosition: 200 }), 'pg0', AT_MS)).toBe(false);
    // A Patroni that does not say its version gives no such notice.
    expect(restartUnderWay(batman(), 'pg0', AT_MS)).toBe(false);
  });

  it('never for a paused cluster (Patroni runs no scheduled action then), a replica, or during a switchover', () => {
    expect(restartUnderWay(scheduled({ config: { ...batman().config, pause: true } }), 'pg0', AT_MS)).toBe(false);
    expect(restartUnderWay(scheduled(), 'pg1', AT_MS)).toBe(false);
    const switching = withMember(batman({ switchoverPending: true, failover: { leader: 'pg0', candidate: 'pg1' } }), 'pg0', { version: '3.0.2' });
    expect(restartUnderWay(switching, 'pg0', AT_MS)).toBe(false);
    expect(primaryGoingDown(switching, 'pg0', AT_MS)).toBe('switchover');
  });

  it('withholds the primary from new write sessions, which wait for it to run again', () => {
    const state = scheduled();
    expect(names(chooseBackends(state, request('primary', { now: AT_MS - 60_000 }), memory()).candidates)).toEqual(['pg0']);
    const decision = chooseBackends(state, request('primary', { now: AT_MS }), memory());
    expect(decision.candidates).toEqual([]);
    expect(decision.reason).toBe('no primary in cluster batman: restart in progress (pg0 is restarting)');
    expect(explainListener(state, request('primary', { now: AT_MS })).excluded).toContainEqual(expect.objectContaining({ member: 'pg0', reason: 'restart' }));
    expect(restartInProgress(state, AT_MS)).toBe('restart in progress (pg0 is restarting)');
    // Replicas are not held: a read session is no business of the primary's restart.
    expect(names(chooseBackends(state, request('replica', { now: AT_MS }), memory()).candidates).sort()).toEqual(['pg1', 'pg2']);
  });

  it('wakes the router when the restart falls due and when it goes stale, with no key change', () => {
    const state = scheduled();
    expect(nextScheduledChangeIn(state, AT_MS - 60_000)).toBe(60_000 - SCHEDULED_ACTION_LEAD_MS);
    expect(nextScheduledChangeIn(state, AT_MS)).toBe(STALE_MS + 1);
    expect(nextScheduledChangeIn(state, AT_MS + STALE_MS + 10)).toBeUndefined();
    expect(nextScheduledChangeIn(batman(), AT_MS)).toBeUndefined();
    // A scheduled switchover's time counts too.
    const switchover = batman({ switchoverPending: true, failover: { leader: 'pg0', candidate: 'pg1', scheduledAt: AT } });
    expect(nextScheduledChangeIn(switchover, AT_MS - 10_000)).toBe(10_000 - 500);
  });
});
