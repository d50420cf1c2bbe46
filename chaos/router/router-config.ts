/**
 * The router's configuration for a chaos run. Pure. Listeners as an operator of Patroni's
 * HAProxy template would have them (primary, replicas) plus a split listener, an `auth:`
 * section (split sessions and moving sessions need it) and the admin API with a token. The
 * `probe` listener routes like `primary` but only the held-connection probe uses it, so its
 * held_connections gauge has exactly one right value.
 */
import { stringify } from 'yaml';

export const CHAOS_LISTENERS = ['primary', 'replicas', 'split', 'probe'] as const;
export type ChaosListener = (typeof CHAOS_LISTENERS)[number];

export interface ChaosRouterLayout {
  scope: string;
  namespace: string;
  /** host:port of etcd's client URL. */
  etcdHostPort: string;
  ports: Record<ChaosListener, number>;
  adminPort: number;
  adminToken: string;
  auth: { user: string; password: string };
  /** The replicas listener's max_lag, so a paused replay takes a replica out of it. */
  replicaMaxLag: string;
  /** How long a client may take over its startup; hostile clients are judged against it. */
  startupTimeoutMs: number;
}

export function renderRouterConfig(layout: ChaosRouterLayout): string {
  const { ports } = layout;
  return stringify({
    scope: layout.scope,
    namespace: layout.namespace,
    etcd3: { hosts: layout.etcdHostPort },
    listeners: [
      { name: 'primary', host: '127.0.0.1', port: ports.primary, route: 'primary' },
      { name: 'replicas', host: '127.0.0.1', port: ports.replicas, route: 'replica', max_lag: layout.replicaMaxLag },
      { name: 'split', host: '127.0.0.1', port: ports.split, route: 'split' },
      { name: 'probe', host: '127.0.0.1', port: ports.probe, route: 'primary' },
    ],
    auth: { user: layout.auth.user, password: layout.auth.password, database: 'postgres', cache_time: '1s' },
    admin: { enabled: true, host: '127.0.0.1', port: layout.adminPort, token: layout.adminToken },
    startup_timeout: `${layout.startupTimeoutMs}ms`,
    log: { level: 'info' },
  });
}
