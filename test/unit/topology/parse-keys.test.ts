import { describe, expect, it } from 'vitest';
import { parseClusterKeys } from '../../../src/topology/parse-cluster-keys.js';
import { parseConnUrl } from '../../../src/topology/parse-member.js';
import { normaliseNamespace, relativeKey, scopePrefix } from '../../../src/topology/scope-prefix.js';
import { parseWalPosition } from '../../../src/topology/wal-position.js';

const member = (fields: Record<string, unknown>): string =>
  JSON.stringify({ conn_url: 'postgres://10.0.0.1:5432/postgres', api_url: 'http://10.0.0.1:8008/patroni', state: 'running', role: 'replica', ...fields });

describe('Patroni 4.x key formats (reference/patroni.md)', () => {
  const parsed = parseClusterKeys(
    new Map([
      ['leader', 'a'],
      ['members/a', member({ role: 'primary', xlog_location: 5000, timeline: 7 })],
      ['members/b', member({ receive_lsn: 4900, replay_lsn: 4800, xlog_location: 4900, tags: { failover_priority: 0, sync_priority: 0 } })],
      ['members/c', member({ tags: { failover_priority: 2, sync_priority: '1', nostream: true, noloadbalance: 'true' } })],
      ['config', JSON.stringify({ ttl: 20, loop_wait: 5, synchronous_mode: 'quorum', synchronous_mode_strict: true, failsafe_mode: true, pause: true })],
      ['sync', JSON.stringify({ leader: 'a', sync_standby: 'b,c', quorum: 1 })],
      ['status', JSON.stringify({ optime: 5000, slots: { b: 4800 }, retain_slots: ['b'] })],
      ['failsafe', JSON.stringify({ a: 'http://10.0.0.1:8008/patroni', b: 'http://10.0.0.2:8008/patroni' })],
      ['failover', JSON.stringify({ leader: 'a', member: 'b', scheduled_at: '2030-01-01T00:00:00+00:00' })],
    ]),
  );

  it('reads role primary, receive_lsn/replay_lsn and priorities as tags', () => {
    expect(parsed.problems).toEqual([]);
    const [a, b, c] = parsed.members;
    expect(a).toMatchObject({ name: 'a', role: 'primary', walPosition: 5000, timeline: 7 });
    expect(b).toMatchObject({ receiveLsn: 4900, replayLsn: 4800 });
    expect(b!.tags).toMatchObject({ nofailover: true, nosync: true });
    expect(c!.tags).toMatchObject({ nofailover: false, nosync: false, nostream: true, noloadbalance: true });
    expect(c!.tags.raw).toEqual({ failover_priority: '2', sync_priority: '1', nostream: 'true', noloadbalance: 'true' });
  });

  it('reads quorum synchronous mode, the quorum sync key, failsafe and scheduled failover', () => {
    expect(parsed.config).toEqual({ ttl: 20, loopWait: 5, retryTimeout: 10, synchronousMode: 'quorum', synchronousModeStrict: true, failsafeMode: true, pause: true });
    expect(parsed.sync).toEqual({ leader: 'a', standbys: ['b', 'c'], quorum: 1 });
    expect(parsed.leaderOptime).toBe(5000);
    expect(parsed.failsafeMembers).toEqual(['a', 'b']);
    expect(parsed.failover).toEqual({ leader: 'a', candidate: 'b', scheduledAt: '2030-01-01T00:00:00+00:00' });
  });
});

describe('malformed values are problems, never exceptions', () => {
  const keys = new Map([
    ['leader', 'good'],
    ['members/good', member({ role: 'master' })],
    ['members/badjson', '{"conn_url": "postgres://x:1/'],
    ['members/badurl', member({ conn_url: 'not a url at all' })],
    ['members/badport', member({ conn_url: 'postgres://host:99999/db' })],
    ['members/badtimeline', member({ timeline: 'three' })],
    ['members/array', '[1,2,3]'],
    ['members/number', '42'],
    ['members/badrole', member({ role: 'overlord' })],
    ['members/badtags', member({ tags: 'nofailover' })],
    ['members/badxlog', member({ xlog_location: 'lots' })],
    ['sync', '{"sync_standby": 17}'],
    ['config', 'ttl: 30'],
    ['status', '{"optime": "soon"}'],
    ['history', '{'],
  ]);
  const parsed = parseClusterKeys(keys);

  it('marks each bad member invalid with its key in the problem', () => {
    const invalid = Object.fromEntries(parsed.members.map((m) => [m.name, m.invalid]));
    expect(invalid.good).toBeUndefined();
    for (const name of ['badjson', 'badurl', 'badport', 'badtimeline', 'array', 'number', 'badrole', 'badtags', 'badxlog']) {
      expect(invalid[name], name).toMatch(/./);
      expect(
        parsed.problems.some((p) => p.startsWith(`members/${name}:`)),
        name,
      ).toBe(true);
    }
    expect(invalid.badjson).toContain('not JSON');
    expect(invalid.badurl).toContain('conn_url');
    expect(invalid.badtimeline).toContain('timeline');
    expect(invalid.array).toContain('not a JSON object');
  });

  it('keeps the rest of the cluster: the good member, the leader, defaults for bad config', () => {
    expect(parsed.leader).toBe('good');
    expect(parsed.members.find((m) => m.name === 'good')).toMatchObject({ role: 'primary', host: '10.0.0.1', port: 5432 });
    expect(parsed.members).toHaveLength(10);
    expect(parsed.config.ttl).toBe(30);
    expect(parsed.sync.standbys).toEqual([]);
    expect(parsed.leaderOptime).toBeUndefined();
    for (const key of ['sync:', 'config:', 'status:', 'history:'])
      expect(
        parsed.problems.some((p) => p.startsWith(key)),
        key,
      ).toBe(true);
  });

  it('ignores Citus group subtrees and unknown keys', () => {
    const citus = parseClusterKeys(
      new Map([
        ['leader', 'good'],
        ['members/good', member({ role: 'master' })],
        ['0/leader', 'x'],
        ['0/members/x', 'garbage'],
        ['1/config', '{'],
        ['optime/leader', '123'],
      ]),
    );
    expect(citus.problems).toEqual([]);
    expect(citus.members.map((m) => m.name)).toEqual(['good']);
  });
});

describe('small parsers', () => {
  it('normalises namespaces the way Patroni does', () => {
    expect(normaliseNamespace('service')).toBe('/service/');
    expect(normaliseNamespace('/service/')).toBe('/service/');
    expect(normaliseNamespace('//postgresql-common//')).toBe('/postgresql-common/');
    expect(scopePrefix('service', '15-main')).toBe('/service/15-main/');
    expect(relativeKey('/service/b/', '/service/b/members/x')).toBe('members/x');
    expect(relativeKey('/service/b/', '/service/bb/leader')).toBeUndefined();
  });

  it('parses conn_url including IPv6 and a default port', () => {
    expect(parseConnUrl('postgres://[::1]:5433/postgres')).toEqual({ host: '::1', port: 5433 });
    expect(parseConnUrl('postgresql://db.example/postgres')).toEqual({ host: 'db.example', port: 5432 });
    expect(parseConnUrl('http://db:5432/')).toBeUndefined();
    expect(parseConnUrl(5432)).toBeUndefined();
  });

  it('parses WAL positions as integers or X/Y', () => {
    expect(parseWalPosition(198178752)).toBe(198178752);
    expect(parseWalPosition('0/BD00000')).toBe(0xbd00000);
    expect(parseWalPosition('1/0')).toBe(4294967296);
    expect(parseWalPosition(-1)).toBeUndefined();
    expect(parseWalPosition('x')).toBeUndefined();
  });
});
