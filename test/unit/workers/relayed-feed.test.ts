import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { fencingVerdict } from '../../../src/routing/fencing-verdict.js';
import type { ClusterState, StateChange } from '../../../src/topology/cluster-state.js';
import { RelayedFeed, type RelayedSnapshot } from '../../../src/workers/relayed-feed.js';
import { batman, memory, names, request, withMember } from '../routing/cluster-factory.js';

const snapshot = (seq: number, state: ClusterState, changes: string[] = [`change ${seq}`]): RelayedSnapshot => ({ scope: state.scope, seq, state, changes });

function recorded(feed: RelayedFeed): StateChange[] {
  const seen: StateChange[] = [];
  feed.subscribe((change) => seen.push(change));
  return seen;
}

describe("RelayedFeed, a worker's view fed by the primary process", () => {
  it('applies snapshots in the order the primary published them, each with the one before as previous', () => {
    const feed = new RelayedFeed('batman');
    const seen = recorded(feed);
    const first = batman({ generation: 7 });
    const second = withMember(first, 'pg1', { lagBytes: 5 });
    expect(feed.current()).toBeUndefined();
    expect(feed.apply(snapshot(3, first))).toBe(true);
    expect(feed.apply(snapshot(4, second))).toBe(true);
    expect(feed.current()).toBe(second);
    expect(seen.map((c) => [c.previous?.generation, c.next.generation, c.changes])).toEqual([
      [undefined, 7, ['change 3']],
      [7, 8, ['change 4']],
    ]);
  });

  it('drops a snapshot that is older than, or the same as, the last one applied, and one of another cluster', () => {
    const feed = new RelayedFeed('batman');
    const seen = recorded(feed);
    const newer = batman({ generation: 9 });
    feed.apply(snapshot(5, newer));
    expect(feed.apply(snapshot(4, batman({ generation: 8 })))).toBe(false);
    expect(feed.apply(snapshot(5, batman({ generation: 9 })))).toBe(false);
    expect(feed.apply({ ...snapshot(6, batman()), scope: 'robin' })).toBe(false);
    expect(feed.current()).toBe(newer);
    expect(seen).toHaveLength(1);
  });

  it("orders by the primary's sequence, not the generation: a reload's new follower counts generations afresh", () => {
    const feed = new RelayedFeed('batman');
    feed.apply(snapshot(10, batman({ generation: 40 })));
    const fromNewFollower = batman({ generation: 1 });
    expect(feed.apply(snapshot(11, fromNewFollower))).toBe(true);
    expect(feed.current()).toBe(fromNewFollower);
  });

  it('once the primary cannot be heard: stale, no writable primary, write sessions fenced with the reason, reads still routed', () => {
    const feed = new RelayedFeed('batman');
    const seen = recorded(feed);
    const live = batman({ generation: 3 });
    feed.apply(snapshot(1, live));
    feed.lose("the router's primary process is gone");
    const view = feed.current()!;
    expect(view).toMatchObject({ stale: true, generation: 4, leader: 'pg0', staleReason: "the router's primary process is gone" });
    expect(view.writablePrimary).toBeUndefined();
    expect(feed.lost).toBe("the router's primary process is gone");
    expect(seen.at(-1)).toMatchObject({ previous: live, next: view, changes: ["view lost: the router's primary process is gone"] });

    const writes = chooseBackends(view, request('primary', { now: 0 }), memory());
    expect(writes.candidates).toEqual([]);
    expect(writes.reason).toContain("topology stale: the router's primary process is gone");
    expect(fencingVerdict(live, view, request('primary'))).toEqual([{ member: 'pg0', reason: expect.stringContaining("the router's primary process is gone") }]);
    expect(names(chooseBackends(view, request('replica'), memory()).candidates)).toEqual(['pg1', 'pg2']);
    expect(fencingVerdict(live, view, request('replica'))).toEqual([]);
  });

  it('believes nothing that still arrives after the view was lost, and loses a view only once', () => {
    const feed = new RelayedFeed('batman');
    feed.apply(snapshot(1, batman()));
    feed.lose('gone');
    const lost = feed.current();
    expect(feed.apply(snapshot(2, batman({ generation: 5 })))).toBe(false);
    feed.lose('gone again');
    expect(feed.current()).toBe(lost);
    expect(feed.current()?.writablePrimary).toBeUndefined();
  });

  it('has nothing to publish when lost before its first snapshot, and stays without a view', () => {
    const feed = new RelayedFeed('batman');
    const seen = recorded(feed);
    feed.lose('gone');
    expect(feed.current()).toBeUndefined();
    expect(feed.apply(snapshot(1, batman()))).toBe(false);
    expect(seen).toEqual([]);
  });

  it('tells every subscriber, even when one throws', () => {
    const errors: unknown[] = [];
    const feed = new RelayedFeed('batman', (err) => errors.push(err));
    feed.subscribe(() => {
      throw new Error('boom');
    });
    const seen = recorded(feed);
    feed.apply(snapshot(1, batman()));
    expect(seen).toHaveLength(1);
    expect(errors).toEqual([new Error('boom')]);
  });

  it("passes a session's doubt on to the primary process, until the view is lost", () => {
    const doubts: string[] = [];
    const feed = new RelayedFeed('batman', undefined, (member, why) => doubts.push(`${member}: ${why}`));
    feed.apply(snapshot(1, batman()));
    feed.doubt('pg0', 'a write login found it in hot standby');
    feed.lose('gone');
    feed.doubt('pg0', 'again');
    expect(doubts).toEqual(['pg0: a write login found it in hot standby']);
  });
});
