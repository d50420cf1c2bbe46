import { describe, expect, it } from 'vitest';
import { CancelRegistry } from '../../../src/proxy/cancel-registry.js';
import { IdleTracker } from '../../../src/proxy/idle-tracker.js';

const owner = (): { cancelRunningQuery: () => void; cancels: number } => {
  const o = { cancels: 0, cancelRunningQuery: () => void o.cancels++ };
  return o;
};

describe('CancelRegistry', () => {
  it('issues distinct keys and finds their owner by process id and secret, and only by both', () => {
    const registry = new CancelRegistry();
    const a = owner();
    const key = registry.issue(a, 'replicas');
    expect(key.processId).toBeGreaterThan(0);
    expect(key.secret).toHaveLength(4);
    expect(registry.lookup(key.processId, key.secret)?.owner).toBe(a);
    const wrong = Buffer.from(key.secret);
    wrong[0] = (wrong[0]! + 1) % 256;
    expect(registry.lookup(key.processId, wrong)).toBeUndefined();
    expect(registry.lookup(key.processId + 1, key.secret)).toBeUndefined();
    const keys = new Set(Array.from({ length: 2000 }, () => registry.issue(owner(), 'replicas')).map((k) => `${k.processId}:${k.secret.toString('hex')}`));
    expect(keys.size).toBe(2000);
  });

  it('keeps a longer secret as long as the member gave (PostgreSQL 18)', () => {
    expect(new CancelRegistry().issue(owner(), 'x', 32).secret).toHaveLength(32);
  });

  it('lets only the owning session release its key', () => {
    const registry = new CancelRegistry();
    const first = owner();
    const key = registry.issue(first, 'primary');
    registry.release(key, owner());
    expect(registry.size).toBe(1);
    registry.release(key, first);
    expect(registry.size).toBe(0);
  });

  it("names the owning worker in the process id's top byte", () => {
    const key = new CancelRegistry(5).issue(owner(), 'primary');
    expect(CancelRegistry.workerOf(key.processId)).toBe(5);
    expect(CancelRegistry.workerOf(new CancelRegistry(0).issue(owner(), 'primary').processId)).toBe(0);
    expect(() => new CancelRegistry(128)).toThrow(RangeError);
  });
});

describe('IdleTracker', () => {
  const rfq = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

  it('is idle after a ReadyForQuery, even one split across chunks, until the client speaks', () => {
    const idle = new IdleTracker(false);
    idle.backendBytes(Buffer.concat([Buffer.from('D....'), rfq.subarray(0, 2)]));
    expect(idle.isIdle()).toBe(false);
    idle.backendBytes(rfq.subarray(2, 3));
    idle.backendBytes(rfq.subarray(3));
    expect(idle.isIdle()).toBe(true);
    idle.clientBytes();
    expect(idle.isIdle()).toBe(false);
  });

  it('is busy when the backend is mid-result', () => {
    const idle = new IdleTracker(true);
    idle.backendBytes(Buffer.from('T\0\0\0\x06ab'));
    expect(idle.isIdle()).toBe(false);
  });
});
