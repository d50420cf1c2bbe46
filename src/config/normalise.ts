/**
 * Turns a validated file into the RouterConfig the rest of the router uses: units resolved,
 * secrets read, endpoints built as Patroni builds them, defaults filled in.
 */
import { accessSync, constants } from 'node:fs';
import type { ClusterSection, ConfigFile, EtcdSection, ListenerSection } from './schema.js';
import type { AuthConfig, ClusterSource, EtcdAccess, ListenerConfig, RestTls, RouteKind, RouterConfig } from './types.js';
import { parseDurationMs, parseSizeBytes } from './units.js';
import { resolveSecret } from './secrets.js';

/** What both default listeners share (each gets its own tags object). */
const DEFAULT_LISTENER_SETTINGS = {
  host: '127.0.0.1',
  balance: 'round-robin',
  hold_timeout: 'auto',
  connect_timeout: '5s',
  fence: true,
  queue_timeout: '5s',
  max_clients: 5000,
  max_lag_recovery: '10s',
  max_lag_fence_after: '30s',
  max_lag_fence_busy: true,
  links: false,
  move_timeout: 'auto',
} satisfies Partial<ListenerSection>;

/** Patroni's HAProxy template: 5000 to the primary, 5001 to the replicas. */
export const DEFAULT_LISTENERS: ListenerSection[] = [
  { name: 'primary', port: 5000, route: 'primary', tags: {}, ...DEFAULT_LISTENER_SETTINGS },
  { name: 'replicas', port: 5001, route: 'replica', tags: {}, ...DEFAULT_LISTENER_SETTINGS },
];

/**
 * What a client may switch to with `-c <prefix>.target=...` when the listener does not say:
 * its own route and the narrower read routes inside it. A primary listener stays primary.
 */
const DEFAULT_TARGETS: Record<RouteKind, RouteKind[]> = {
  primary: ['primary'],
  replica: ['replica', 'sync', 'async', 'quorum'],
  sync: ['sync'],
  async: ['async'],
  quorum: ['quorum'],
  'read-only': ['read-only', 'primary', 'replica', 'sync', 'async', 'quorum', 'read-only-sync', 'read-only-quorum'],
  'read-only-sync': ['read-only-sync', 'primary', 'sync'],
  'read-only-quorum': ['read-only-quorum', 'primary', 'quorum'],
  leader: ['leader'],
  'standby-leader': ['standby-leader'],
  any: ['any', 'primary', 'replica', 'sync', 'async', 'quorum', 'read-only', 'read-only-sync', 'read-only-quorum', 'leader', 'standby-leader'],
};

export function normaliseNamespace(namespace: string): string {
  const trimmed = namespace.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

function endpointsOf(section: EtcdSection, fieldPath: string, problems: string[]): string[] {
  const protocol = section.protocol ?? 'http';
  if (section.url !== undefined) return [section.url.replace(/\/+$/, '')];
  const raw = section.hosts ?? section.host ?? '';
  const list = (Array.isArray(raw) ? raw : raw.split(',')).map((h) => h.trim()).filter((h) => h !== '');
  if (list.length === 0) problems.push(`${fieldPath}.hosts: no host given`);
  return list.map((hostPort) => {
    // Patroni accepts host without a port; etcd's default client port is 2379.
    const withPort = /:\d+$/.test(hostPort) ? hostPort : `${hostPort}:2379`;
    return `${protocol}://${withPort}`;
  });
}

function etcdAccess(api: 'etcd3' | 'etcd', section: EtcdSection, fieldPath: string, env: NodeJS.ProcessEnv, problems: string[]): EtcdAccess {
  const access: EtcdAccess = { api, endpoints: endpointsOf(section, fieldPath, problems) };
  if (section.username !== undefined) access.username = section.username;
  const password = resolveSecret(section, 'password', `${fieldPath}.password`, env, problems);
  if (password !== undefined) access.password = password;
  if (section.cacert !== undefined) access.cacert = section.cacert;
  if (section.cert !== undefined) access.cert = section.cert;
  if (section.key !== undefined) access.key = section.key;
  return access;
}

function clusterSource(section: ClusterSection, fieldPath: string, env: NodeJS.ProcessEnv, problems: string[]): ClusterSource {
  const topology = section.topology ?? { resync_interval: '5s', probe_interval: '1s', probe_timeout: '800ms', dcs_loss_writes: 'ttl' as const };
  const source: ClusterSource = {
    scope: section.scope,
    namespace: normaliseNamespace(section.namespace),
    topology: {
      resyncIntervalMs: parseDurationMs(topology.resync_interval) ?? 5000,
      probeIntervalMs: parseDurationMs(topology.probe_interval) ?? 1000,
      probeTimeoutMs: parseDurationMs(topology.probe_timeout) ?? 800,
      dcsLossWrites: topology.dcs_loss_writes,
    },
  };
  if (topology.rest_tls !== undefined) {
    const { ca, cert, key, verify } = topology.rest_tls;
    const restTls: RestTls = { verify };
    const readable = (file: string | undefined, field: string): string | undefined => {
      if (file === undefined) return undefined;
      try {
        accessSync(file, constants.R_OK);
      } catch (err) {
        problems.push(`${fieldPath}topology.rest_tls.${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      return file;
    };
    const caFile = readable(ca, 'ca');
    const certFile = readable(cert, 'cert');
    const keyFile = readable(key, 'key');
    if (caFile !== undefined) restTls.ca = caFile;
    if (certFile !== undefined) restTls.cert = certFile;
    if (keyFile !== undefined) restTls.key = keyFile;
    source.topology.restTls = restTls;
  }
  if (section.etcd3) source.etcd = etcdAccess('etcd3', section.etcd3, `${fieldPath}etcd3`, env, problems);
  else if (section.etcd) source.etcd = etcdAccess('etcd', section.etcd, `${fieldPath}etcd`, env, problems);
  else if (section.rest) source.restUrls = section.rest.urls.map((u) => u.replace(/\/+$/, ''));
  return source;
}

function listenerConfig(section: ListenerSection, index: number, clusters: ClusterSource[], problems: string[]): ListenerConfig {
  const fieldPath = `listeners[${index}] (${section.name})`;
  let cluster = section.cluster;
  if (cluster === undefined) {
    if (clusters.length === 1) cluster = clusters[0]?.scope;
    else if (clusters.length > 1) problems.push(`${fieldPath}.cluster: several clusters are followed; name the scope this listener routes to`);
  } else if (!clusters.some((c) => c.scope === cluster)) {
    problems.push(`${fieldPath}.cluster: no followed cluster has scope "${cluster}"`);
  }
  const route: RouteKind = section.route === 'split' ? 'primary' : section.route;
  const allowed = new Set<RouteKind>([route, ...(section.allow_targets ?? DEFAULT_TARGETS[route])]);
  const listener: ListenerConfig = {
    name: section.name,
    cluster: cluster ?? '',
    host: section.host,
    port: section.port,
    route,
    tags: Object.fromEntries(Object.entries(section.tags).map(([k, v]) => [k, String(v)])),
    balance: section.balance,
    holdTimeoutMs: section.hold_timeout === 'auto' ? 'auto' : (parseDurationMs(section.hold_timeout) ?? 30_000),
    connectTimeoutMs: parseDurationMs(section.connect_timeout) ?? 5000,
    fence: section.fence,
    allowedTargets: [...allowed],
    queueTimeoutMs: parseDurationMs(section.queue_timeout) ?? 5000,
    maxLagRecoveryMs: parseDurationMs(section.max_lag_recovery) ?? 10_000,
    maxLagFenceBusy: section.max_lag_fence_busy,
    maxClients: section.max_clients,
    links: section.links || section.route === 'split',
    moveSessions: section.move_sessions ?? false,
    moveTimeoutMs: section.move_timeout === 'auto' ? 'auto' : (parseDurationMs(section.move_timeout) ?? 30_000),
  };
  if (section.move_sessions === true && route !== 'primary')
    problems.push(`${fieldPath}.move_sessions: only for listeners whose sessions follow the primary (route primary or split)`);
  if (section.maxconn !== undefined) listener.maxconn = section.maxconn;
  if (section.route === 'split') {
    const s = section.split ?? {
      consistency: 'read-your-writes' as const,
      replica_route: 'replica' as const,
      safe_functions: [],
      catalog_refresh: '60s',
      replay_poll: '50ms',
      replica_wait: '50ms',
    };
    const replayPollMs = parseDurationMs(s.replay_poll) ?? 50;
    if (replayPollMs > 100) problems.push(`${fieldPath}.split.replay_poll: at most 100ms, or reads wait on the primary too long after each write`);
    listener.split = {
      consistency: s.consistency,
      replicaRoute: s.replica_route,
      safeFunctions: s.safe_functions,
      catalogRefreshMs: parseDurationMs(s.catalog_refresh) ?? 60_000,
      replayPollMs,
      replicaWaitMs: parseDurationMs(s.replica_wait) ?? 50,
    };
  } else if (section.split !== undefined) problems.push(`${fieldPath}.split: only for route: split`);
  if (section.max_lag_fence_after !== 'off') listener.maxLagFenceAfterMs = parseDurationMs(section.max_lag_fence_after) ?? 30_000;
  if (section.max_lag !== undefined) listener.maxLagBytes = parseSizeBytes(section.max_lag);
  if (section.fallback !== undefined) {
    if (section.fallback === section.route) problems.push(`${fieldPath}.fallback: falls back to its own route`);
    listener.fallback = section.fallback;
  }
  return listener;
}

export function normalise(file: ConfigFile, env: NodeJS.ProcessEnv, problems: string[]): RouterConfig {
  const clusters: ClusterSource[] = [];
  const topLevelDcs = file.scope !== undefined || file.etcd3 !== undefined || file.etcd !== undefined || file.rest !== undefined;
  if (file.clusters !== undefined && topLevelDcs) {
    problems.push('clusters: give either `clusters:` or a single top-level `scope` with its DCS block, not both');
  } else if (file.clusters !== undefined) {
    file.clusters.forEach((c, i) => clusters.push(clusterSource(c, `clusters[${i}].`, env, problems)));
  } else if (file.scope === undefined) {
    problems.push("scope: missing (Patroni's `scope`, the cluster name)");
  } else {
    const dcsCount = [file.etcd3, file.etcd, file.rest].filter((x) => x !== undefined).length;
    if (dcsCount !== 1) {
      problems.push('etcd3: give exactly one of `etcd3` (v3 API), `etcd` (v2 API) or `rest` (Patroni REST only)');
    } else {
      const section: ClusterSection = { scope: file.scope, namespace: file.namespace ?? '/service/' };
      if (file.etcd3) section.etcd3 = file.etcd3;
      if (file.etcd) section.etcd = file.etcd;
      if (file.rest) section.rest = file.rest;
      if (file.topology) section.topology = file.topology;
      clusters.push(clusterSource(section, '', env, problems));
    }
  }
  const scopes = clusters.map((c) => `${c.namespace}${c.scope}`);
  const duplicate = scopes.find((s, i) => scopes.indexOf(s) !== i);
  if (duplicate !== undefined) problems.push(`clusters: ${duplicate} is listed twice`);

  const listenerSections = file.listeners ?? DEFAULT_LISTENERS;
  const listeners = listenerSections.map((l, i) => listenerConfig(l, i, clusters, problems));
  const seenNames = new Set<string>();
  const seenAddresses = new Set<string>();
  listeners.forEach((l, i) => {
    if (seenNames.has(l.name)) problems.push(`listeners[${i}].name: "${l.name}" is used twice`);
    seenNames.add(l.name);
    const address = `${l.host}:${l.port}`;
    if (seenAddresses.has(address)) problems.push(`listeners[${i}].port: ${address} is used twice`);
    seenAddresses.add(address);
  });

  const tlsFile = file.tls;
  const tls: RouterConfig['tls'] = { backend: { mode: tlsFile?.backend.mode ?? 'prefer' } };
  if (tlsFile) {
    if (tlsFile.cert !== undefined) tls.cert = tlsFile.cert;
    if (tlsFile.key !== undefined) tls.key = tlsFile.key;
    if (tlsFile.ca !== undefined) tls.ca = tlsFile.ca;
    if (tlsFile.backend.ca !== undefined) tls.backend.ca = tlsFile.backend.ca;
    const passphrase = resolveSecret(tlsFile, 'passphrase', 'tls.passphrase', env, problems);
    if (passphrase !== undefined) tls.passphrase = passphrase;
    if (tls.backend.mode === 'verify-full' && tls.backend.ca === undefined) {
      problems.push("tls.backend.ca: `verify-full` needs the CA that signed the members' certificates");
    }
  }

  let auth: AuthConfig | undefined;
  if (file.auth !== undefined) {
    const a = file.auth;
    auth = { user: a.user, database: a.database, schema: a.schema, cacheTimeMs: parseDurationMs(a.cache_time) ?? 30_000, timeoutMs: parseDurationMs(a.timeout) ?? 5_000 };
    const password = resolveSecret(a, 'password', 'auth.password', env, problems);
    if (password !== undefined) auth.password = password;
    if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(a.schema)) problems.push('auth.schema: a plain SQL identifier (letters, digits, "_", "$")');
  }
  listenerSections.forEach((section, i) => {
    const l = listeners[i];
    if (l === undefined) return;
    // On where it can work: a primary or split listener, and the auth_query role to log in again with.
    if (section.move_sessions === undefined) l.moveSessions = auth !== undefined && l.route === 'primary';
    if (l.moveSessions) l.links = true;
  });
  listeners.forEach((l, i) => {
    if (l.links && auth === undefined) problems.push(`listeners[${i}].links: needs an auth: section (the auth_query role), or sessions could not log in to another member`);
  });

  const adminFile = file.admin ?? { enabled: true, host: '127.0.0.1', port: 7000 };
  const admin: RouterConfig['admin'] = { enabled: adminFile.enabled, host: adminFile.host, port: adminFile.port };
  const token = resolveSecret(adminFile, 'token', 'admin.token', env, problems);
  if (token !== undefined) admin.token = token;

  return {
    clusters,
    listeners,
    tls,
    ...(auth !== undefined ? { auth } : {}),
    admin,
    log: { level: file.log?.level ?? 'info' },
    startupTimeoutMs: parseDurationMs(file.startup_timeout) ?? 10_000,
    authenticationTimeoutMs: parseDurationMs(file.authentication_timeout) ?? 60_000,
    drainTimeoutMs: parseDurationMs(file.drain_timeout) ?? 30_000,
    targetParameterPrefix: file.target_parameter_prefix,
    workers: file.workers,
  };
}
