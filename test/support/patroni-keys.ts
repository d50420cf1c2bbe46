/** Patroni-shaped key values written by hand, for a follower against a bare etcd. */
export function memberValue(role: 'master' | 'replica', port: number): string {
  return JSON.stringify({
    conn_url: `postgres://127.0.0.1:${port}/postgres`,
    // REST probing is off in these tests; the address only has to parse.
    api_url: 'http://127.0.0.1:1/patroni',
    state: 'running',
    role,
    xlog_location: 100,
    timeline: 1,
  });
}

/** A two-member cluster with `leader` as primary: `[key relative to the scope, value]`. */
export function twoMemberKeys(leader: 'pg0' | 'pg1'): Array<[string, string]> {
  return [
    ['config', JSON.stringify({ ttl: 30, loop_wait: 10, synchronous_mode: false })],
    ['members/pg0', memberValue(leader === 'pg0' ? 'master' : 'replica', 15432)],
    ['members/pg1', memberValue(leader === 'pg1' ? 'master' : 'replica', 15433)],
    ['leader', leader],
  ];
}
