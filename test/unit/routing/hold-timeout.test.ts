import { describe, expect, it } from 'vitest';
import { holdTimeoutMs } from '../../../src/routing/hold-timeout.js';
import { batman } from './cluster-factory.js';

describe('hold_timeout: auto', () => {
  it("is the cluster's ttl + loop_wait, so a crash failover fits (Patroni's defaults: 40 s)", () => {
    expect(holdTimeoutMs('auto', undefined)).toBe(40_000);
    expect(holdTimeoutMs('auto', { ...batman().config, ttl: 20, loopWait: 2 })).toBe(22_000);
    expect(holdTimeoutMs('auto', { ...batman().config, ttl: 60, loopWait: 10 })).toBe(70_000);
  });

  it('leaves a number as it is', () => {
    expect(holdTimeoutMs(5_000, { ...batman().config, ttl: 60, loopWait: 10 })).toBe(5_000);
    expect(holdTimeoutMs(0, undefined)).toBe(0);
  });
});
