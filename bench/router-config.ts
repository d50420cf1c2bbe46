import { stringify } from 'yaml';

/** The router's YAML for the bench: one cluster, a primary and a replicas listener, plain backend legs, the admin API on loopback. Pure. */
export interface RouterLayout {
  scope: string;
  namespace: string;
  etcdEndpoint: string;
  primaryPort: number;
  replicaPort: number;
  adminPort: number;
  /** The router's `workers` value; left out of the file when undefined (a router without the setting). */
  workers?: string;
  /**
   * A `split` listener too, with the `auth:` section it needs (the auth_query role that lets
   * the router open a session's replica link as the session's user).
   */
  split?: { port: number; auth: RouterAuth };
  /**
   * The `auth:` section without a split listener: the primary listener then moves its sessions
   * to the new primary (move_sessions is on by default where the router can log in again).
   */
  auth?: RouterAuth;
  /** The router's log level; `warn` when left out. */
  logLevel?: 'warn' | 'info' | 'debug';
}

/** The auth_query role the router logs in as to learn what lets it log a session in again. */
export interface RouterAuth {
  user: string;
  password: string;
  database: string;
}

/** `workers: 4` is a number in YAML, `workers: auto` a word. */
function workersValue(workers: string): number | string {
  return /^\d+$/.test(workers) ? Number(workers) : workers;
}

export function renderRouterConfig(layout: RouterLayout): string {
  const hosts = layout.etcdEndpoint.replace(/^https?:\/\//, '');
  const auth = layout.auth ?? layout.split?.auth;
  return stringify({
    scope: layout.scope,
    namespace: layout.namespace,
    etcd3: { hosts },
    listeners: [
      { name: 'primary', host: '127.0.0.1', port: layout.primaryPort, route: 'primary' },
      { name: 'replicas', host: '127.0.0.1', port: layout.replicaPort, route: 'replica' },
      // The split route's defaults: read-your-writes, replicas of the `replica` route, replay positions every 50 ms.
      ...(layout.split ? [{ name: 'split', host: '127.0.0.1', port: layout.split.port, route: 'split' }] : []),
    ],
    ...(auth ? { auth } : {}),
    admin: { host: '127.0.0.1', port: layout.adminPort },
    // Like HAProxy in TCP mode, relay what the client chose (plain TCP here) instead of the
    // default 'prefer', which would add a TLS handshake and encryption on every backend leg.
    tls: { backend: { mode: 'disable' } },
    log: { level: layout.logLevel ?? 'warn' },
    ...(layout.workers === undefined ? {} : { workers: workersValue(layout.workers) }),
  });
}
