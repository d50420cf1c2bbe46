/**
 * Which member a moving session tries, and when: never the old primary a switchover is taking
 * down, and a member named while the pause after a failed attempt runs is tried at once.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendLink } from '../../../../src/proxy/backend/backend-link.js';
import { systemClock, TimerSet } from '../../../../src/proxy/clock.js';
import { SessionMover, type MoverHost } from '../../../../src/proxy/move/session-mover.js';
import type { ClusterState, Member } from '../../../../src/topology/cluster-state.js';
import { batman, withMember } from '../../routing/cluster-factory.js';

/** A host whose logins are decided per member by `logins`, and which records what the mover did. */
function hostFor(initial: ClusterState, logins: (member: string) => 'ok' | 'refused') {
  let state = initial;
  const tried: string[] = [];
  const moved: string[] = [];
  const relay: string[] = [];
  const link = (name: string): BackendLink => ({ member: { name }, recoveryReason: () => Promise.resolve(undefined), close: () => undefined }) as unknown as BackendLink;
  const host: MoverHost = {
    state: () => state,
    now: () => Date.now(),
    timers: new TimerSet(systemClock),
    timeoutMs: () => 30_000,
    openLink: (member: Member) => {
      tried.push(member.name);
      return logins(member.name) === 'ok' ? Promise.resolve(link(member.name)) : Promise.reject(new Error(`${member.name}: 57P03 the database system is shutting down`));
    },
    relay: { pause: () => relay.push('pause'), resume: () => relay.push('resume'), attachPrimary: () => undefined },
    moved: (l) => moved.push((l as unknown as { member: { name: string } }).member.name),
    gaveUp: () => undefined,
    log: pino({ level: 'silent' }),
  };
  return {
    host,
    tried,
    moved,
    relay,
    set(next: ClusterState): void {
      state = next;
    },
  };
}

/** pg0, Patroni 3.0.2, primary with a switchover to pg1 asked for: `demoting` once its key has lost its WAL position. */
function switchingOver(demoting: boolean): ClusterState {
  const state = batman({ switchoverPending: true, failover: { leader: 'pg0', candidate: 'pg1' } });
  return withMember(state, 'pg0', demoting ? { version: '3.0.2' } : { version: '3.0.2', walPosition: 100 });
}

describe('a moving session', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not log in again on the old primary a switchover is taking down, only ahead on the candidate', async () => {
    const h = hostFor(switchingOver(true), () => 'ok');
    const mover = new SessionMover(h.host);
    mover.begin('pg0', 'pg0 is going away (57P01)');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.tried).toEqual(['pg1']);
    expect(h.moved).toEqual([]);
    // The leader key moves and pg1 is the writable primary: the link opened ahead is the one used.
    h.set({ ...batman({ leader: 'pg1', writablePrimary: 'pg1' }), generation: 9 });
    mover.stateChanged(undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.tried).toEqual(['pg1']);
    expect(h.moved).toEqual(['pg1']);
    mover.stop();
  });

  it('goes back to the member it left when no switchover is away from it (a restart)', async () => {
    const h = hostFor(batman(), () => 'ok');
    const mover = new SessionMover(h.host);
    mover.begin('pg0', 'pg0 is going away (57P01)');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.moved).toEqual(['pg0']);
    mover.stop();
  });

  it('tries a newly named primary at once, not after the pause that spares the one that refused it', async () => {
    const h = hostFor(batman(), (name) => (name === 'pg0' ? 'refused' : 'ok'));
    const mover = new SessionMover(h.host);
    mover.begin('pg0', 'pg0 is going away (57P01)');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.tried).toEqual(['pg0']);
    // The same member named again within the pause is not asked again yet.
    mover.stateChanged(undefined);
    await vi.advanceTimersByTimeAsync(10);
    expect(h.tried).toEqual(['pg0']);
    h.set({ ...batman({ leader: 'pg1', writablePrimary: 'pg1' }), generation: 9 });
    mover.stateChanged(undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.tried).toEqual(['pg0', 'pg1']);
    expect(h.moved).toEqual(['pg1']);
    mover.stop();
  });

  it('asks a member that refused it again after the pause', async () => {
    let refusing = true;
    const h = hostFor(batman(), () => (refusing ? 'refused' : 'ok'));
    const mover = new SessionMover(h.host);
    mover.begin('pg0', 'pg0 is going away (57P01)');
    await vi.advanceTimersByTimeAsync(0);
    refusing = false;
    await vi.advanceTimersByTimeAsync(249);
    expect(h.tried).toEqual(['pg0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.tried).toEqual(['pg0', 'pg0']);
    expect(h.moved).toEqual(['pg0']);
    mover.stop();
  });

  it('pauses new work on its primary while Patroni restarts it, from the schedule in the key until the key has a WAL position again', async () => {
    const now = Date.now();
    const at = new Date(now + 10_000).toISOString();
    const h = hostFor(withMember(batman(), 'pg0', { version: '3.0.2', walPosition: 100, scheduledRestartAt: at }), () => 'ok');
    const mover = new SessionMover(h.host);
    mover.stateChanged('pg0');
    expect(h.relay).toEqual([]);
    // The router is told the same state again when the restart falls due (proxy-server's wake-up).
    await vi.advanceTimersByTimeAsync(9_600);
    mover.stateChanged('pg0');
    expect(h.relay).toEqual(['pause']);
    // Patroni starts it: the key loses the schedule and the WAL position.
    h.set(withMember(batman(), 'pg0', { version: '3.0.2' }));
    mover.stateChanged('pg0');
    expect(h.relay).toEqual(['pause']);
    // It is over when a key with a position comes (here without the shutdown having cut the link).
    h.set(withMember(batman(), 'pg0', { version: '3.0.2', walPosition: 300 }));
    mover.stateChanged('pg0');
    expect(h.relay).toEqual(['pause', 'resume']);
    mover.stop();
  });
});
