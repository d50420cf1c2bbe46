import { describe, expect, it } from 'vitest';
import { CancelRegistry } from '../../../src/proxy/cancel-registry.js';
import { IdleTracker } from '../../../src/proxy/idle-tracker.js';

const target = { host: '127.0.0.1', port: 5432, listener: 'replicas', member: 'pg1' };

describe('CancelRegistry', () => {
  it('finds a backend by process id and secret, and only by both', () => {
    const registry = new CancelRegistry();
    const owner = {};
    registry.register(100, Buffer.from([1, 2, 3, 4]), target, owner);
    expect(registry.lookup(100, Buffer.from([1, 2, 3, 4]))).toEqual(target);
    expect(registry.lookup(100, Buffer.from([1, 2, 3, 5]))).toBeUndefined();
    expect(registry.lookup(101, Buffer.from([1, 2, 3, 4]))).toBeUndefined();
  });

  it('lets only the owning session remove its key', () => {
    const registry = new CancelRegistry();
    const first = {};
    const second = {};
    registry.register(1, Buffer.from('abcd'), target, first);
    registry.register(1, Buffer.from('abcd'), { ...target, member: 'pg2' }, second);
    registry.remove(1, Buffer.from('abcd'), first);
    expect(registry.lookup(1, Buffer.from('abcd'))?.member).toBe('pg2');
    registry.remove(1, Buffer.from('abcd'), second);
    expect(registry.size).toBe(0);
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
