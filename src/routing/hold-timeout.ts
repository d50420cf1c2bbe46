import type { ClusterConfig } from '../topology/cluster-state.js';

/** Patroni's defaults, until the cluster's `config` key has been read. */
const PATRONI_TTL_S = 30;
const PATRONI_LOOP_WAIT_S = 10;

/**
 * The hold a listener gives new connections when it says `hold_timeout: auto`: long enough
 * for a crash failover of this cluster. The dead leader's key expires at most `ttl` after its
 * last renewal, and the new leader is elected and promoted within about one more loop, so
 * `ttl + loop_wait` covers it with a margin (Patroni's defaults: 40 s; measured here, the new
 * primary was usable 30.4 s after a SIGKILL with ttl 30, just past the old fixed 30 s).
 */
export function holdTimeoutMs(setting: number | 'auto', config: ClusterConfig | undefined): number {
  if (setting !== 'auto') return setting;
  return ((config?.ttl ?? PATRONI_TTL_S) + (config?.loopWait ?? PATRONI_LOOP_WAIT_S)) * 1000;
}
