/** The pure parts of the primary process's side of `workers`: shares, backoff, replies, merged reports, notices. */
import { describe, expect, it, vi } from 'vitest';
import type { RouterConfig } from '../../../src/config/types.js';
import type { ListenerSessions } from '../../../src/proxy/proxy-server.js';
import { configForWorker, shareOf } from '../../../src/workers/listener-shares.js';
import { deliverNotice, isFromWorker, isToWorker, type Notice } from '../../../src/workers/messages.js';
import { PendingReplies } from '../../../src/workers/pending-replies.js';
import { RestartBackoff } from '../../../src/workers/restart-backoff.js';
import { workerNotices } from '../../../src/workers/worker-notices.js';
import { mergeListeners, mergeSessions } from '../../../src/workers/worker-reports.js';
import { listenerConfig } from '../../support/listener-config.js';

describe('listener limits shared between workers', () => {
  it('splits a limit so the shares add up to it, the first workers taking the remainder, never below 1', () => {
    expect([1, 2, 3].map((i) => shareOf(10, 3, i))).toEqual([4, 3, 3]);
    expect([1, 2].map((i) => shareOf(5000, 2, i))).toEqual([2500, 2500]);
    expect([1, 2, 3].map((i) => shareOf(2, 3, i))).toEqual([1, 1, 1]);
  });

  it("gives each worker its share of max_clients and maxconn, and leaves a single process's config alone", () => {
    const config = { listeners: [listenerConfig('primary', 'c', { maxClients: 101, maxconn: 10 }), listenerConfig('replicas', 'c', { maxClients: 7 })] } as RouterConfig;
    expect(configForWorker(config, 1, 1)).toBe(config);
    const second = configForWorker(config, 2, 2);
    expect(second.listeners.map((l) => [l.maxClients, l.maxconn])).toEqual([
      [50, 5],
      [3, undefined],
    ]);
    expect(configForWorker(config, 2, 1).listeners[0]?.maxClients).toBe(51);
  });
});

describe('RestartBackoff', () => {
  it('doubles the wait for each quick exit, up to a cap, and starts afresh after a worker ran long enough', () => {
    const backoff = new RestartBackoff(100, 1000, 10_000);
    expect([1, 2, 3, 4, 5].map(() => backoff.next(50))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoff.next(10_000)).toBe(100);
    expect(backoff.next(20)).toBe(200);
  });
});

describe('PendingReplies', () => {
  it('settles a question once every worker asked has answered, keeping each answer by worker', async () => {
    const replies = new PendingReplies<string>();
    let asked = 0;
    const answers = replies.ask([1, 2], 10_000, (id) => {
      asked = id;
    });
    replies.answer(2, asked, 'two');
    replies.answer(3, asked, 'not asked');
    replies.answer(2, asked + 1, 'another question');
    replies.answer(1, asked, 'one');
    expect(await answers).toEqual(
      new Map([
        [2, 'two'],
        [1, 'one'],
      ]),
    );
  });

  it('stops waiting for a worker that exited, and gives what came at the deadline', async () => {
    const replies = new PendingReplies<string>();
    let id = 0;
    const exited = replies.ask([1, 2], 10_000, (n) => (id = n));
    replies.answer(1, id, 'one');
    replies.forget(2);
    expect(await exited).toEqual(new Map([[1, 'one']]));
    vi.useFakeTimers();
    try {
      const late = replies.ask([1], 50, () => undefined);
      vi.advanceTimersByTime(60);
      expect(await late).toEqual(new Map());
    } finally {
      vi.useRealTimers();
    }
    expect(await replies.ask([], 50, () => undefined)).toEqual(new Map());
  });
});

const sessions = (listener: string, over: Partial<ListenerSessions> = {}): ListenerSessions => ({
  listener,
  cluster: 'c',
  retired: false,
  total: 0,
  held: 0,
  byPhase: {},
  byMember: {},
  ...over,
});

describe('reports of several workers as one router', () => {
  it('sums sessions per listener and member, keeping a retired listener apart', () => {
    const merged = mergeSessions([
      [sessions('primary', { total: 3, held: 1, byPhase: { relaying: 2, holding: 1 }, byMember: { pg0: 2 } }), sessions('replicas', { total: 1, byMember: { pg1: 1 } })],
      [sessions('primary', { total: 2, byPhase: { relaying: 2 }, byMember: { pg0: 2 } }), sessions('primary', { retired: true, total: 1, byMember: { pg0: 1 } })],
    ]);
    expect(merged).toEqual([
      sessions('primary', { total: 5, held: 1, byPhase: { relaying: 4, holding: 1 }, byMember: { pg0: 4 } }),
      sessions('replicas', { total: 1, byMember: { pg1: 1 } }),
      sessions('primary', { retired: true, total: 1, byMember: { pg0: 1 } }),
    ]);
  });

  it("sums split listeners' routing counts, pins and replica links", () => {
    const split = (n: number): NonNullable<ListenerSessions['split']> => ({
      units: { primary: n, replica: 2 * n },
      primaryReasons: { write: n },
      retriedOnPrimary: n,
      pinned: { 'temp table': 1 },
      // Only the second worker's sessions hold links to pg2.
      replicaLinks: n === 1 ? { pg1: 2 } : { pg1: 1, pg2: 3 },
    });
    const [merged] = mergeSessions([[sessions('rw', { split: split(1) })], [sessions('rw', { split: split(2) })]]);
    expect(merged?.split).toEqual({
      units: { primary: 3, replica: 6 },
      primaryReasons: { write: 3 },
      retriedOnPrimary: 3,
      pinned: { 'temp table': 2 },
      replicaLinks: { pg1: 3, pg2: 3 },
    });
  });

  it('calls a listener accepting while any worker accepts on its shared socket', () => {
    const status = { name: 'primary', cluster: 'c', route: 'primary' as const, host: '127.0.0.1', port: 5000, retired: false };
    expect(mergeListeners([[{ ...status, accepting: false }], [{ ...status, accepting: true }]])).toEqual([{ ...status, accepting: true }]);
    expect(mergeListeners([])).toEqual([]);
  });
});

describe("a worker's notices to the primary", () => {
  it('tells the first session on a member per view of its cluster, hold time-outs only, and every fencing, refusal and move', () => {
    const sent: Notice[] = [];
    let generation = 4;
    const notices = workerNotices(
      (n) => sent.push(n),
      () => generation,
    );
    notices.sessionStarted({ listener: 'primary', member: 'pg0' });
    notices.sessionStarted({ listener: 'primary', member: 'pg0' });
    notices.sessionStarted({ listener: 'replicas', member: 'pg0' });
    generation = 5;
    notices.sessionStarted({ listener: 'primary', member: 'pg0' });
    notices.holdEnded({ listener: 'primary', waitedMs: 10, outcome: 'proceeded' });
    notices.holdEnded({ listener: 'primary', waitedMs: 30_000, outcome: 'timeout' });
    notices.fenced({ listener: 'primary', member: 'pg0', reason: 'demoted' });
    notices.sessionMoved({ listener: 'primary', from: 'pg0', to: 'pg1', waitedMs: 900 });
    notices.sessionNotMoved({ listener: 'primary', member: 'pg0', reason: 'open-transaction' });
    notices.connectionAccepted({ listener: 'primary' });
    notices.sessionEnded({ listener: 'primary', member: 'pg0', clientAddress: 'x', durationMs: 1, bytesIn: 1, bytesOut: 1, ending: 'client-closed' });
    expect(sent.map((n) => `${n.name} ${n.event.listener}`)).toEqual([
      'sessionStarted primary',
      'sessionStarted replicas',
      'sessionStarted primary',
      'holdEnded primary',
      'fenced primary',
      'sessionMoved primary',
      'sessionNotMoved primary',
    ]);
  });

  it('reaches the observer hook it names, and only messages of ours pass the checks', () => {
    const fenced: unknown[] = [];
    const observers = {
      ...workerNotices(
        () => undefined,
        () => 0,
      ),
      fenced: (e: unknown) => void fenced.push(e),
    };
    const notice: Notice = { type: 'notice', name: 'fenced', event: { listener: 'primary', member: 'pg0', reason: 'demoted' } };
    deliverNotice(notice, observers);
    expect(fenced).toEqual([notice.event]);
    expect(isFromWorker(notice)).toBe(true);
    expect(isFromWorker({ type: 'notice', name: 'sessionEnded', event: {} })).toBe(false);
    expect(isFromWorker({ type: 'doubt', scope: 'batman', member: 'pg0', why: 'a write login found it in hot standby' })).toBe(true);
    expect(isFromWorker({ type: 'prom-client:getMetricsRes' })).toBe(false);
    expect(isFromWorker('hello')).toBe(false);
    expect(isToWorker({ type: 'drain', timeoutMs: 1 })).toBe(true);
    expect(isToWorker({ cmd: 'NODE_CLUSTER' })).toBe(false);
  });
});
