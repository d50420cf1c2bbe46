import { MAX_WORKERS } from '../proxy/cancel-registry.js';

/**
 * How many processes accept and relay for a `workers` setting. 1 means the router runs in one
 * process, as before the setting existed; `auto` is one per core this process may use.
 */
export function workerCount(setting: number | 'auto', cores: number): number {
  if (setting !== 'auto') return setting;
  return Math.max(1, Math.min(MAX_WORKERS, Math.floor(cores)));
}

/** What check-config and the start-up log say about it. */
export function describeWorkers(setting: number | 'auto', cores: number): string {
  const count = workerCount(setting, cores);
  const how = count === 1 ? 'everything in one process' : `${count} worker processes accept and relay; the primary process follows the topology and serves the admin API`;
  return `workers: ${count}${setting === 'auto' ? ` (auto: ${cores} core${cores === 1 ? '' : 's'})` : ''}, ${how}`;
}
