import { describe, expect, it } from 'vitest';
import { ReadYourWrites, type ReplayPosition } from '../../../../src/proxy/split/read-your-writes.js';

const at = (lsn: number, timeline = 1): ReplayPosition => ({ lsn, timeline, at: 0 });

describe('ReadYourWrites', () => {
  it('a session that never wrote may read on any replica whose position is known', () => {
    const t = new ReadYourWrites('read-your-writes');
    expect(t.replicaMayServe(at(0))).toBe(true);
    expect(t.replicaMayServe(undefined)).toBe('unknown-position');
  });

  it('after a write, only the primary serves until its position is known, then replicas past it', () => {
    const t = new ReadYourWrites('read-your-writes');
    t.writeSent();
    expect(t.replicaMayServe(at(10_000))).toBe('write-in-flight');
    t.wrote(5_000);
    expect(t.replicaMayServe(at(4_999))).toBe('behind');
    expect(t.replicaMayServe(at(5_000))).toBe(true);
    expect(t.required).toBe(5_000);
  });

  it('a write whose position could not be read keeps reads on the primary until a later write is known', () => {
    const t = new ReadYourWrites('read-your-writes');
    t.writeSent();
    t.writePositionLost();
    expect(t.replicaMayServe(at(1e9))).toBe('position-lost');
    t.writeSent();
    t.wrote(100);
    expect(t.replicaMayServe(at(100))).toBe(true);
  });

  it('reads are monotonic: after a read at a position, a replica behind it does not serve', () => {
    const t = new ReadYourWrites('read-your-writes');
    t.readAt(at(900));
    expect(t.replicaMayServe(at(800))).toBe('behind');
    expect(t.replicaMayServe(at(900))).toBe(true);
  });

  it('after a leader change, replicas must be on the new primary timeline', () => {
    const t = new ReadYourWrites('read-your-writes');
    t.leaderChanged(undefined);
    expect(t.replicaMayServe(at(1, 2))).toBe('other-timeline');
    t.primaryTimeline(2);
    expect(t.replicaMayServe(at(1, 1))).toBe('other-timeline');
    expect(t.replicaMayServe(at(1, 2))).toBe(true);
  });

  it('eventual consistency lets any replica serve', () => {
    const t = new ReadYourWrites('eventual');
    t.writeSent();
    t.leaderChanged(undefined);
    expect(t.replicaMayServe(undefined)).toBe(true);
  });
});
