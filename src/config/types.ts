/**
 * The router's configuration after validation and normalisation (camelCase, units resolved
 * to ms and bytes). The YAML file uses Patroni's and HAProxy's words; see config/schema.ts.
 */

export interface EtcdAccess {
  /** 'etcd3' = v3 gRPC API (Patroni's `etcd3:`), 'etcd' = v2 HTTP API (Patroni's `etcd:`). */
  api: 'etcd3' | 'etcd';
  /** Endpoints as URLs, e.g. http://127.0.0.1:2379 (built from hosts/host + protocol). */
  endpoints: string[];
  username?: string;
  password?: string;
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface TopologySettings {
  /** Periodic full re-read of the prefix as a safety net (lease keepalives make no events). */
  resyncIntervalMs: number;
  /** REST `GET /patroni` probe period per member; 0 disables probing. */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /**
   * What writes do when the DCS cannot be reached:
   *  - 'ttl': keep the last primary until `ttl` s after the last successful DCS contact, then refuse.
   *  - 'rest': additionally keep it while its own REST API says it is the primary (failsafe_mode clusters).
   *  - 'refuse': refuse writes as soon as the DCS is unreachable.
   */
  dcsLossWrites: 'ttl' | 'rest' | 'refuse';
  /** TLS to Patroni's REST APIs when they serve HTTPS (`restapi.certfile`). */
  restTls?: RestTls;
}

/** How the router's REST client trusts (and authenticates to) Patroni's HTTPS REST API. */
export interface RestTls {
  /** PEM file of the CA that signed the members' REST certificates; default the system's. */
  ca?: string;
  /** Client certificate and key, for `restapi.verify_client: required`. */
  cert?: string;
  key?: string;
  /** false: accept any certificate (HAProxy's `check-ssl verify none`). Default true. */
  verify: boolean;
}

export interface ClusterSource {
  scope: string;
  /** Normalised to begin and end with '/', e.g. '/service/'. */
  namespace: string;
  etcd?: EtcdAccess;
  /** REST-only mode: Patroni API base URLs polled with GET /cluster. */
  restUrls?: string[];
  topology: TopologySettings;
}

export type RouteKind = 'primary' | 'replica' | 'sync' | 'async' | 'quorum' | 'read-only' | 'read-only-sync' | 'read-only-quorum' | 'leader' | 'standby-leader' | 'any';

export type Balance = 'round-robin' | 'least-connections' | 'random';

export interface ListenerConfig {
  name: string;
  /** Which followed cluster (scope) this listener routes to. */
  cluster: string;
  host: string;
  port: number;
  route: RouteKind;
  /** Only members whose tags match every entry (Patroni's ?tag_key=value). */
  tags: Record<string, string>;
  /** Max lag in bytes for replica routes; undefined = no limit. */
  maxLagBytes?: number;
  /** A replica back under max_lag serves new connections again only after this long under it. */
  maxLagRecoveryMs: number;
  /** Sessions on a replica over max_lag are closed once the lag has lasted this long; undefined: never. */
  maxLagFenceAfterMs?: number;
  /** false: a session running a query is left to finish; only idle ones are closed for lag. */
  maxLagFenceBusy: boolean;
  balance: Balance;
  /** Route to try when this route has no eligible member. */
  fallback?: RouteKind;
  /**
   * How long a new connection waits for a member; `auto`: the cluster's own ttl + loop_wait
   * from its `config` key, the longest a crash failover takes (see routing/hold-timeout.ts).
   */
  holdTimeoutMs: number | 'auto';
  connectTimeoutMs: number;
  /** Close sessions on a member the moment it stops being eligible. */
  fence: boolean;
  /** Routes a client may ask for with `-c <prefix>.target=...`; always includes `route`. */
  allowedTargets: RouteKind[];
  /** Sessions per member on this listener (HAProxy's `server ... maxconn`); beyond it new ones queue. */
  maxconn?: number;
  /** How long a session waits in that queue (HAProxy's `timeout queue`). */
  queueTimeoutMs: number;
  /** Client connections the listener holds at once, in any phase; beyond it they get 53300 at once. */
  maxClients: number;
  /**
   * Sessions may open more links to other members as the client's user (read/write split,
   * moving to a new primary): the router learns the user's SCRAM ClientKey or md5 hash during
   * the login it relays (needs `auth:`). Needs the router to read the startup (not TLS passed through).
   */
  links: boolean;
  /**
   * A session whose primary goes away between transactions (switchover, restart, crash)
   * waits for the next one and goes on there as the same user with its settings and prepared
   * statements, instead of being closed. Needs `links`; on by default for `primary` and
   * `split` listeners when the configuration has an `auth:` section.
   */
  moveSessions: boolean;
  /** How long a moving session waits for a new primary; `auto`: as hold_timeout. */
  moveTimeoutMs: number | 'auto';
  /**
   * Set on a `route: split` listener (its `route` is then `primary`: the session's first link):
   * reads that are safe there go to a replica link, statement by statement.
   */
  split?: SplitSettings;
}

export interface SplitSettings {
  /** read-your-writes: a replica serves a session's read only once it has replayed past the session's last commit. */
  consistency: 'read-your-writes' | 'eventual';
  /** How the replica link is chosen (with the listener's tags, max_lag and balance). */
  replicaRoute: 'replica' | 'sync' | 'async' | 'quorum';
  /** Volatile user functions that are safe on a replica anyway (`name` or `schema.name`). */
  safeFunctions: string[];
  catalogRefreshMs: number;
  /** How often replicas' replay positions are read. */
  replayPollMs: number;
  /**
   * How long a read may wait for a fresher replay position when the last one does not cover
   * the session's last write yet (0: go to the primary at once).
   */
  replicaWaitMs: number;
}

export type BackendTlsMode = 'disable' | 'prefer' | 'require' | 'verify-full';

export interface TlsConfig {
  /** When cert and key are set the router terminates TLS; otherwise it passes TLS through. */
  cert?: string;
  key?: string;
  passphrase?: string;
  ca?: string;
  backend: { mode: BackendTlsMode; ca?: string };
}

/** The auth_query connection: how the router looks up a user's secret (SCRAM verifier, md5 hash). */
export interface AuthConfig {
  user: string;
  /** Undefined: the role logs in by trust (or peer over a socket). */
  password?: string;
  database: string;
  schema: string;
  cacheTimeMs: number;
  timeoutMs: number;
}

export interface AdminConfig {
  host: string;
  port: number;
  token?: string;
  enabled: boolean;
}

export interface RouterConfig {
  clusters: ClusterSource[];
  listeners: ListenerConfig[];
  tls: TlsConfig;
  /** Set when the router may look up users' secrets (links, and SCRAM across terminated TLS). */
  auth?: AuthConfig;
  admin: AdminConfig;
  log: { level: string };
  startupTimeoutMs: number;
  /** From the startup sent to a member until it says ReadyForQuery (PostgreSQL's authentication_timeout). */
  authenticationTimeoutMs: number;
  drainTimeoutMs: number;
  /** Prefix of the startup option a client uses to pick a route: `-c <prefix>.target=sync`. */
  targetParameterPrefix: string;
  /**
   * How many processes accept and relay connections: 1 runs everything in this process;
   * more (or `auto`, one per core) runs the listeners in worker processes beside a primary
   * process that follows the topology (src/workers/, docs/workers.md).
   */
  workers: number | 'auto';
  /** Path the configuration was read from, for error messages and reloads. */
  source?: string;
}
