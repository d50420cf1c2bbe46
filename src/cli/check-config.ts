import { availableParallelism } from 'node:os';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load.js';
import type { RouterConfig } from '../config/types.js';
import { configWarnings } from '../config/warnings.js';
import { describeWorkers } from '../workers/worker-count.js';

/** One line per listener and cluster, so `check-config` shows what would run. */
export function describeConfig(config: RouterConfig): string[] {
  const lines: string[] = [];
  for (const cluster of config.clusters) {
    const dcs = cluster.etcd ? `${cluster.etcd.api} ${cluster.etcd.endpoints.join(',')}` : `rest ${cluster.restUrls?.join(',') ?? ''}`;
    lines.push(`cluster ${cluster.namespace}${cluster.scope} via ${dcs}`);
  }
  for (const l of config.listeners) {
    const options = [
      l.maxLagBytes !== undefined ? `max_lag ${l.maxLagBytes} B` : '',
      l.fallback ? `fallback ${l.fallback}` : '',
      Object.keys(l.tags).length > 0
        ? `tags ${Object.entries(l.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`
        : '',
    ].filter((s) => s !== '');
    lines.push(`listener ${l.name} ${l.host}:${l.port} -> ${l.route} of ${l.cluster} (${l.balance}${options.length ? `, ${options.join(', ')}` : ''})`);
  }
  lines.push(config.admin.enabled ? `admin http://${config.admin.host}:${config.admin.port}/${config.admin.token ? ' (token required)' : ''}` : 'admin disabled');
  lines.push(config.tls.cert ? 'TLS: terminated by the router' : 'TLS: passed through to the members');
  lines.push(describeWorkers(config.workers, availableParallelism()));
  return lines;
}

export function checkConfig(path: string, out: (line: string) => void): number {
  try {
    const config = loadConfig(path);
    out(`${path}: OK`);
    for (const line of describeConfig(config)) out(`  ${line}`);
    for (const warning of configWarnings(config)) out(`  warning: ${warning}`);
    return 0;
  } catch (error) {
    out(error instanceof ConfigError ? error.message : `${path}: ${(error as Error).message}`);
    return 1;
  }
}
