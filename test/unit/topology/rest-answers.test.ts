import { describe, expect, it } from 'vitest';
import { parseClusterView, parsePatroniStatus } from '../../../src/topology/parse-rest-answers.js';
import { flattenV2, v2Event } from '../../../src/topology/etcd2-source.js';
import { reconnectDelay } from '../../../src/topology/reconnect-backoff.js';

describe('REST answers', () => {
  it('reads GET /patroni on a primary and on a paused replica', () => {
    expect(parsePatroniStatus({ state: 'running', role: 'master', timeline: 4, xlog: { location: 1000 } }, 5)).toEqual({
      at: 5,
      reachable: true,
      role: 'primary',
      state: 'running',
      timeline: 4,
      walPosition: 1000,
    });
    expect(parsePatroniStatus({ state: 'running', role: 'replica', xlog: { received_location: 900, replayed_location: 800, paused: true } }, 5)).toMatchObject({
      role: 'replica',
      walPosition: 800,
      receivedPosition: 900,
      replayPaused: true,
    });
    expect(parsePatroniStatus('nope', 5)).toMatchObject({ reachable: false });
  });

  it('turns GET /cluster into parsed keys', () => {
    const parsed = parseClusterView({
      members: [
        { name: 'pg0', role: 'leader', state: 'running', api_url: 'http://127.0.0.1:8008/patroni', host: '127.0.0.1', port: 5433, timeline: 3 },
        {
          name: 'pg1',
          role: 'sync_standby',
          state: 'streaming',
          api_url: 'http://127.0.0.1:8009/patroni',
          host: '127.0.0.1',
          port: 5434,
          timeline: 3,
          lag: 0,
          tags: { datacenter: 'dc1' },
        },
        { name: 'pg2', role: 'replica', state: 'running', host: '::1', port: 5435, lag: 'unknown', tags: { nofailover: true } },
        { role: 'replica' },
      ],
      pause: true,
    });
    expect(parsed.leader).toBe('pg0');
    expect(parsed.sync.standbys).toEqual(['pg1']);
    expect(parsed.config.pause).toBe(true);
    expect(parsed.members.map((m) => [m.name, m.role, m.host, m.port, m.lagBytes])).toEqual([
      ['pg0', 'primary', '127.0.0.1', 5433, undefined],
      ['pg1', 'replica', '127.0.0.1', 5434, 0],
      ['pg2', 'replica', '::1', 5435, undefined],
    ]);
    expect(parsed.members[2]!.tags.nofailover).toBe(true);
    expect(parsed.problems).toHaveLength(1);
  });

  it("reads a replica's state on GET /cluster (Patroni 3.0.4+: its replication state) as running, keeping the replication state", () => {
    const parsed = parseClusterView({
      members: [
        { name: 'pg0', role: 'leader', state: 'running', host: '127.0.0.1', port: 5433 },
        { name: 'pg1', role: 'replica', state: 'streaming', host: '127.0.0.1', port: 5434, lag: 0 },
        { name: 'pg2', role: 'quorum_standby', state: 'in archive recovery', host: '127.0.0.1', port: 5435, lag: 0 },
        { name: 'pg3', role: 'replica', state: 'starting', host: '127.0.0.1', port: 5436 },
      ],
    });
    expect(parsed.members.map((m) => [m.name, m.state, m.replicationState])).toEqual([
      ['pg0', 'running', undefined],
      ['pg1', 'running', 'streaming'],
      ['pg2', 'running', 'in archive recovery'],
      ['pg3', 'starting', undefined],
    ]);
    expect(parsed.problems).toEqual([]);
  });
});

describe('etcd v2 answers', () => {
  const prefix = '/service/batman/';
  it('flattens a recursive read', () => {
    const node = {
      key: '/service/batman',
      dir: true,
      nodes: [
        { key: '/service/batman/leader', value: 'pg0' },
        { key: '/service/batman/members', dir: true, nodes: [{ key: '/service/batman/members/pg0', value: '{}' }] },
      ],
    };
    expect([...flattenV2(node, prefix)]).toEqual([
      ['leader', 'pg0'],
      ['members/pg0', '{}'],
    ]);
  });
  it('maps actions to events; a directory removal asks for a re-read', () => {
    expect(v2Event({ action: 'compareAndSwap', node: { key: '/service/batman/leader', value: 'pg1', modifiedIndex: 9 } }, prefix)).toEqual([
      { type: 'put', key: 'leader', value: 'pg1' },
    ]);
    expect(v2Event({ action: 'expire', node: { key: '/service/batman/leader', modifiedIndex: 9 } }, prefix)).toEqual([{ type: 'delete', key: 'leader' }]);
    expect(v2Event({ action: 'delete', node: { key: '/service/batman/members', dir: true } }, prefix)).toBeUndefined();
  });
  it('backs off exponentially with a cap', () => {
    expect(reconnectDelay(0, 100, 5000, () => 1)).toBe(100);
    expect(reconnectDelay(3, 100, 5000, () => 1)).toBe(800);
    expect(reconnectDelay(30, 100, 5000, () => 1)).toBe(5000);
  });
});
