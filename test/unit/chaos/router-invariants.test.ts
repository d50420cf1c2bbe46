import { describe, expect, it } from 'vitest';
import { judgeFullPrimaryAnswer, judgeHostileClients, PROMPT_REFUSAL_MS } from '../../../chaos/invariants/fault-outcomes.js';
import { judgeBackends } from '../../../chaos/invariants/leaked-backends.js';
import { judgeResources, RESOURCE_TOLERANCE, warmUpEnd } from '../../../chaos/invariants/resource-baseline.js';
import { compareGauges, compareHeld, readGauges } from '../../../chaos/invariants/session-gauges.js';
import type { Backend, BackendCensus } from '../../../chaos/observe/backend-census.js';
import { censusOfSockets, parseProcNetTcp } from '../../../chaos/observe/proc-sockets.js';
import { parseMetrics } from '../../../chaos/router/metrics-text.js';

const backend = (applicationName: string, pid = 1): Backend => ({ pid, applicationName, user: 'scramuser', state: 'idle', backendStartMs: 0, query: '' });
const many = (n: number, name: string): Backend[] => Array.from({ length: n }, (_, i) => backend(name, i));

const METRICS = `# HELP patroni_router_sessions Open sessions
patroni_router_sessions{listener="primary",member="pg0"} 10
patroni_router_sessions{listener="primary",member="pg1"} 0
patroni_router_sessions{listener="replicas",member="pg1"} 6
patroni_router_sessions{listener="split",member="pg0"} 8
patroni_router_held_connections{listener="primary"} 0
patroni_router_held_connections{listener="probe"} 0
`;

describe('session gauges against pg_stat_activity', () => {
  const opts = { listeners: ['primary', 'replicas', 'split', 'probe'], splitListeners: ['split'], primary: 'pg0' };
  const census: BackendCensus = {
    pg0: [...many(4, 'chaos/primary/writer'), ...many(6, 'chaos/primary/pgbench'), ...many(8, 'chaos/split/writer'), backend('Patroni')],
    pg1: [...many(6, 'chaos/replicas/pgbench'), ...many(5, 'chaos/split/writer')],
    pg2: undefined,
  };

  it('reads the gauges out of the exposition text', () => {
    const g = readGauges(parseMetrics(METRICS));
    expect(g.sessions.primary).toEqual({ pg0: 10, pg1: 0 });
    expect(g.held).toEqual({ primary: 0, probe: 0 });
  });

  it('agrees when every gauge is what the members hold, split replica links included', () => {
    expect(compareGauges(readGauges(parseMetrics(METRICS)), census, opts).mismatches).toEqual([]);
  });

  it('names a gauge that disagrees, a split gauge off the primary, too many replica links and a held count at rest', () => {
    const wrong = METRICS.replace('member="pg0"} 10', 'member="pg0"} 11')
      .replace('{listener="split",member="pg0"} 8', '{listener="split",member="pg0"} 4\npatroni_router_sessions{listener="split",member="pg1"} 1')
      .replace('{listener="probe"} 0', '{listener="probe"} 2');
    const { mismatches } = compareGauges(readGauges(parseMetrics(wrong)), census, opts);
    expect(mismatches).toEqual([
      'sessions{listener=primary,member=pg0} is 11, pg_stat_activity on pg0 has 10',
      'sessions{listener=split,member=pg0} is 4, pg_stat_activity on pg0 has 8',
      'sessions{listener=split,member=pg1} is 1, but split sessions belong to the primary pg0',
      'held_connections{listener=probe} is 2 at a quiet moment',
    ]);
    const tooManyLinks = { ...census, pg1: [...many(6, 'chaos/replicas/pgbench'), ...many(9, 'chaos/split/writer')] };
    expect(compareGauges(readGauges(parseMetrics(METRICS)), tooManyLinks, opts).mismatches).toEqual(['pg1 has 9 split backends (replica links), more than the 8 split sessions']);
  });

  it('judges held probes', () => {
    const held = readGauges(parseMetrics('patroni_router_held_connections{listener="probe"} 3\n'));
    expect(compareHeld(held, 'probe', 3)).toBeUndefined();
    expect(compareHeld(held, 'probe', 4)).toMatch(/is 3 .* 4 probe connections/);
  });
});

describe('leaked backends', () => {
  it("keeps Patroni's and the router's own, and names everything else", () => {
    const verdict = judgeBackends({ pg0: [backend('Patroni'), backend('patroni-router auth_query'), backend('chaos/primary/writer', 77), backend('', 78)], pg1: undefined });
    expect(verdict.expected).toEqual({ pg0: { Patroni: 1, 'patroni-router auth_query': 1 } });
    expect(verdict.leaked.map((l) => l.backend.pid)).toEqual([77, 78]);
    expect(verdict.unread).toEqual(['pg1']);
  });
});

describe('resources back to the baseline', () => {
  const baseline = { at: 0, rssKb: 100_000, fds: 30 };
  const quiet = censusOfSockets([], { listeners: [5432], admin: 7000, members: {}, rest: [], etcd: 2379 });

  const memory = { liveHeapKb: { baseline: 150_000, final: 155_000 }, warmRssKb: 180_000 };

  it('passes within the tolerance and fails beyond it', () => {
    // RSS far above the idle baseline is no leak by itself: pages kept after the load.
    expect(judgeResources(baseline, { at: 1, rssKb: 200_000, fds: 40 }, quiet, memory)).toEqual([]);
    const over = judgeResources(baseline, { at: 1, rssKb: memory.warmRssKb + RESOURCE_TOLERANCE.rssClimbKb + 1, fds: 43 }, quiet, {
      ...memory,
      liveHeapKb: { baseline: 150_000, final: 150_000 + RESOURCE_TOLERANCE.liveHeapKb + 1 },
    });
    expect(over.map((v) => v.detail)).toEqual([
      expect.stringMatching(/43 open fds, baseline 30/),
      expect.stringMatching(/^live heap after a full GC 162.5 MB, baseline 146.5 MB/),
      expect.stringMatching(/^RSS climbed to .* MB, warm-up peak 175.8 MB/),
    ]);
  });

  it('measures the climb from the first fifth of the faults, at least a minute', () => {
    expect(warmUpEnd(0, 15 * 60_000)).toBe(3 * 60_000);
    expect(warmUpEnd(1_000, 1_000 + 3 * 60_000)).toBe(61_000);
  });

  it('counts a client socket left open or one in CLOSE_WAIT, read from /proc/net/tcp', () => {
    const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0
   1: 0100007F:1538 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 12 1 0
   2: 0100007F:9C40 0100007F:0CEA 08 00000000:00000000 00:00000000 00000000     0        0 13 1 0`;
    const sockets = parseProcNetTcp(table);
    expect(sockets.map((s) => [s.localPort, s.remotePort, s.state])).toEqual([
      [5432, 0, 'LISTEN'],
      [5432, 54321, 'ESTABLISHED'],
      [40000, 3306, 'CLOSE_WAIT'],
    ]);
    const census = censusOfSockets(sockets, { listeners: [5432], admin: 7000, members: { pg0: 3306 }, rest: [], etcd: 2379 });
    expect(census).toMatchObject({ listening: 1, clients: 1, closeWait: 1, backends: { pg0: 1 } });
    expect(judgeResources(baseline, { at: 1, rssKb: 100_000, fds: 30 }, census, memory).map((v) => v.detail)).toEqual([
      expect.stringMatching(/1 client connections/),
      expect.stringMatching(/CLOSE_WAIT/),
    ]);
  });
});

describe('faults aimed at the router', () => {
  const member = { code: '53300', message: 'sorry, too many clients already' };

  it("wants a full primary's 53300 passed on promptly in its words", () => {
    expect(judgeFullPrimaryAnswer(member, { ok: false, code: '53300', message: member.message, ms: 40 }, 0)).toBeUndefined();
    expect(
      judgeFullPrimaryAnswer(member, { ok: false, code: '57P03', message: 'patroni-router listener primary: no usable member (waited 22 s)', ms: PROMPT_REFUSAL_MS + 1 }, 0)
        ?.detail,
    ).toMatch(/code 57P03, message .*, after/);
    // PostgreSQL's other wording for the same lack of room, as a later connection may hear it.
    expect(
      judgeFullPrimaryAnswer(member, { ok: false, code: '53300', message: 'remaining connection slots are reserved for non-replication superuser connections', ms: 16 }, 0),
    ).toBeUndefined();
    expect(judgeFullPrimaryAnswer(member, { ok: false, code: '53300', message: 'patroni-router: no slot', ms: 16 }, 0)?.detail).toMatch(/message "patroni-router: no slot"/);
    expect(judgeFullPrimaryAnswer(undefined, { ok: false, ms: 10 }, 0)).toBeUndefined();
    expect(judgeFullPrimaryAnswer(member, { ok: true, ms: 10 }, 0)).toBeUndefined();
  });

  it('wants every hostile client let go in time', () => {
    const outcomes = [
      { variant: 'random-bytes', listener: 'primary', answer: 'E 08P01', closedAfterMs: 3 },
      { variant: 'length-only', listener: 'split', answer: 'nothing', closedAfterMs: 10_100 },
      { variant: 'length-only', listener: 'split', answer: 'nothing' },
    ];
    expect(judgeHostileClients('slow-clients', outcomes.slice(0, 2), 12_000, 0)).toBeUndefined();
    expect(judgeHostileClients('slow-clients', outcomes, 12_000, 0)?.detail).toBe('1 of 3 slow-clients still open after 12 s: 1× length-only on split');
    // Held 14 s for a member to answer its SSLRequest, then closed at once: the client's silence was 0 s.
    const held = { variant: 'ssl-request-then-silence', listener: 'replicas', answer: 'S', answeredAfterMs: 14_200, closedAfterMs: 14_250 };
    expect(judgeHostileClients('slow-clients', [held], 12_000, 0)).toBeUndefined();
    // Answered at once, then kept 14 s: too long.
    expect(judgeHostileClients('slow-clients', [{ ...held, answeredAfterMs: 5 }], 12_000, 0)?.detail).toMatch(/1 of 1 slow-clients/);
  });
});
