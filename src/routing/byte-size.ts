/**
 * Lag sizes as people read them in refusal messages ("lags 20 MB (max 16 MB)").
 * Binary units, like Patroni's `maximum_lag_on_failover` and `?lag=10MB`.
 */
const UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} bytes`;
  let value = bytes;
  let unit: string = 'bytes';
  for (const next of UNITS) {
    if (Math.abs(value) < 1024) break;
    value /= 1024;
    unit = next;
  }
  // One decimal below 10 ("1.5 MB"), whole numbers above ("20 MB").
  const shown = Math.abs(value) < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${unit}`;
}
