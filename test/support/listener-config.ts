import type { ListenerConfig } from '../../src/config/types.js';

/** A listener as the config loader would produce it, on a free port (0), with test-sized time-outs. */
export function listenerConfig(name: string, cluster: string, overrides: Partial<ListenerConfig> = {}): ListenerConfig {
  return {
    name,
    cluster,
    host: '127.0.0.1',
    port: 0,
    route: 'primary',
    tags: {},
    balance: 'round-robin',
    holdTimeoutMs: 5_000,
    connectTimeoutMs: 2_000,
    fence: true,
    allowedTargets: ['primary', 'replica', 'any'],
    queueTimeoutMs: 5_000,
    maxLagRecoveryMs: 10_000,
    maxLagFenceAfterMs: 30_000,
    maxLagFenceBusy: true,
    links: false,
    maxClients: 5000,
    moveSessions: false,
    moveTimeoutMs: 5_000,
    ...overrides,
  };
}
