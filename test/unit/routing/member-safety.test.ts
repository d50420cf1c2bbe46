import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { batman, memory, names, request, withMember } from './cluster-factory.js';
import type { RouteKind } from '../../../src/config/types.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';

const READ_ROUTES: RouteKind[] = ['replica', 'sync', 'read-only', 'any'];
const NOW = 2_000_000;

function decide(state: ClusterState, route: RouteKind, now?: number) {
  return chooseBackends(state, request(route, now === undefined ? {} : { now }), memory());
}

describe('members that are never routed to', () => {
  it('an invalid member key', () => {
    const state = withMember(batman(), 'pg1', { invalid: 'conn_url is not a URL' });
    for (const route of READ_ROUTES) {
      const d = decide(state, route);
      expect(names(d.candidates)).not.toContain('pg1');
      expect(d.excluded).toContainEqual({
        member: 'pg1',
        reason: 'invalid',
        detail: 'has an unreadable member key (conn_url is not a URL)',
      });
    }
  });

  it('no host or no port', () => {
    for (const patch of [{ host: undefined }, { port: undefined }]) {
      const state = withMember(batman(), 'pg1', patch);
      expect(decide(state, 'sync').excluded).toContainEqual({ member: 'pg1', reason: 'no-address', detail: 'has no usable conn_url' });
    }
  });

  it('state other than running', () => {
    for (const s of ['starting', 'stopped', 'crashed', 'creating replica', 'restarting']) {
      const state = withMember(batman(), 'pg1', { state: s });
      expect(names(decide(state, 'any').candidates)).not.toContain('pg1');
    }
  });

  it('a fresh REST observation saying unreachable', () => {
    const state = withMember(batman(), 'pg1', { observed: { at: NOW - 1000, reachable: false, error: 'connect ECONNREFUSED' } });
    expect(decide(state, 'replica', NOW).excluded).toContainEqual({
      member: 'pg1',
      reason: 'unreachable',
      detail: 'does not answer its REST API (connect ECONNREFUSED)',
    });
  });

  it('a fresh REST observation contradicting the DCS role (replica in DCS, primary on REST)', () => {
    const state = withMember(batman(), 'pg1', { observed: { at: NOW - 1000, reachable: true, role: 'primary', state: 'running' } });
    const d = decide(state, 'replica', NOW);
    expect(names(d.candidates)).toEqual([]);
    expect(d.excluded).toContainEqual({ member: 'pg1', reason: 'role', detail: 'reports role primary on its REST API' });
    // pg2 streams from pg1, so it is out too.
    expect(d.excluded).toContainEqual({
      member: 'pg2',
      reason: 'upstream',
      detail: 'replicates from pg1, which reports role primary on its REST API',
    });
  });

  it('a fresh REST observation saying promoted', () => {
    const state = withMember(batman(), 'pg2', { observed: { at: NOW, reachable: true, role: 'promoted' } });
    expect(decide(state, 'read-only', NOW).excluded).toContainEqual({
      member: 'pg2',
      reason: 'role',
      detail: 'reports role promoted on its REST API',
    });
  });

  it('a fresh REST observation saying the server is not running', () => {
    const state = withMember(batman(), 'pg2', { observed: { at: NOW, reachable: true, role: 'replica', state: 'stopping' } });
    expect(decide(state, 'replica', NOW).excluded).toContainEqual({
      member: 'pg2',
      reason: 'state',
      detail: 'reports state stopping on its REST API',
    });
  });

  it('but an observation older than loop_wait is ignored (the DCS is as fresh)', () => {
    const state = withMember(batman(), 'pg2', { observed: { at: NOW - 11_000, reachable: false } });
    expect(names(decide(state, 'replica', NOW).candidates)).toContain('pg2');
  });

  it('and an agreeing observation changes nothing', () => {
    const state = withMember(batman(), 'pg2', { observed: { at: NOW, reachable: true, role: 'replica', state: 'running' } });
    expect(names(decide(state, 'replica', NOW).candidates)).toContain('pg2');
  });

  it('without a clock every observation counts as fresh', () => {
    const state = withMember(batman(), 'pg2', { observed: { at: 1, reachable: false } });
    expect(names(decide(state, 'replica').candidates)).not.toContain('pg2');
  });
});
