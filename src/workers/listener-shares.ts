import type { RouterConfig } from '../config/types.js';

/**
 * `total` split over `count` workers as evenly as it goes, the first ones taking the remainder
 * (so the shares add up to `total`), and never below 1, so that every worker can serve: with
 * fewer than `count` to share, the workers together allow `count`. Pure.
 */
export function shareOf(total: number, count: number, index: number): number {
  const base = Math.floor(total / count);
  const extra = index <= total % count ? 1 : 0;
  return Math.max(1, base + extra);
}

/**
 * The configuration worker `index` of `count` runs: each listener's `max_clients` and
 * `maxconn` are per listener, and every worker counts only its own sessions, so each enforces
 * its share and the router as a whole keeps the configured limits.
 */
export function configForWorker(config: RouterConfig, count: number, index: number): RouterConfig {
  if (count === 1) return config;
  return {
    ...config,
    listeners: config.listeners.map((l) => ({
      ...l,
      maxClients: shareOf(l.maxClients, count, index),
      ...(l.maxconn !== undefined ? { maxconn: shareOf(l.maxconn, count, index) } : {}),
    })),
  };
}
