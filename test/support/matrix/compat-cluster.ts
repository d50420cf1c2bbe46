/**
 * One cluster of the compatibility matrix: a real 2-member Patroni cluster (primary and one
 * replica) of the tuple's shape, the router's auth_query role on it, and the routers its cells
 * need in the test process: pass-through (no tls.cert) and terminating (the test's own
 * self-signed certificate, backend mode prefer), each with a primary and a replica listener.
 */
import { credentials, startCluster, waitFor, type PatroniCluster } from '../../cluster/index.js';
import type { TlsFiles } from '../../cluster/tls-cert.js';
import { authYaml, setUpAuthRole } from '../auth-role.js';
import type { Endpoint } from '../drivers/scenario-types.js';
import { startRouter, type RouterUnderTest } from '../router-under-test.js';
import type { ClusterTuple, CompatCell, RouterTls } from './compat-axes.js';
import type { MemberPorts } from './compat-verdict.js';

const LISTENERS = ['  - {name: primary, port: 0, route: primary}', '  - {name: replica, port: 0, route: replica}'].join('\n');

/** Under a single-method pg_hba every role logs in with it; each cell uses the role named for it. */
const roleFor = {
  trust: credentials.trust,
  md5: credentials.md5,
  'scram-sha-256': credentials.scram,
} as const;

export interface CompatCluster {
  cluster: PatroniCluster;
  ports: MemberPorts;
  routers: Partial<Record<RouterTls, RouterUnderTest>>;
  /** How long the cluster, the auth role and the routers took to be ready. */
  readyInMs: number;
  endpoint(cell: CompatCell): Endpoint;
  router(mode: RouterTls): RouterUnderTest;
  stop(): Promise<void>;
}

/** The router's YAML beyond its listeners, for one mode on this cluster. */
export function routerYaml(cluster: Pick<PatroniCluster, 'restTls' | 'restCaFile'>, mode: RouterTls, cert: TlsFiles): string {
  // The router answers SCRAM itself where a terminated-TLS client meets a TLS member (channel
  // binding cannot be relayed), so it needs the auth_query role; pass-through gets it too, as
  // an operator's one configuration would.
  const parts = [authYaml()];
  if (cluster.restTls) parts.push(`topology: {rest_tls: {ca: ${cluster.restCaFile}}}\n`);
  if (mode === 'terminate') parts.push(`tls: {cert: ${cert.certFile}, key: ${cert.keyFile}, backend: {mode: prefer}}\n`);
  return parts.join('');
}

export async function startCompatCluster(tuple: ClusterTuple, modes: readonly RouterTls[], cert: TlsFiles): Promise<CompatCluster> {
  const started = performance.now();
  const cluster = await startCluster({ members: 2, patroni: tuple.patroni, ssl: tuple.memberSsl === 'on', restTls: tuple.restApi === 'https', hba: tuple.hba });
  const routers: Partial<Record<RouterTls, RouterUnderTest>> = {};
  const stop = async (): Promise<void> => {
    for (const r of Object.values(routers)) await r.stop();
    await cluster.stop();
  };
  try {
    const leader = await cluster.waitForHealthy();
    const replica = cluster.members.find((m) => m.name !== leader);
    if (replica === undefined) throw new Error('a 2-member cluster without a replica');
    await setUpAuthRole(cluster, leader);
    for (const mode of modes) {
      const r = await startRouter(cluster, LISTENERS, { extraYaml: routerYaml(cluster, mode, cert), logLevel: 'debug' });
      routers[mode] = r;
      await waitFor(
        `the ${mode} router to see ${leader} writable and ${replica.name} running`,
        () => {
          const state = r.router.feeds().get(cluster.scope)?.current();
          return state?.writablePrimary === leader && state.members.some((m) => m.name === replica.name && m.role === 'replica' && m.state === 'running');
        },
        { timeoutMs: 60_000 },
      );
    }
    const router = (mode: RouterTls): RouterUnderTest => {
      const r = routers[mode];
      if (r === undefined) throw new Error(`no ${mode} router on this cluster`);
      return r;
    };
    return {
      cluster,
      ports: { primary: cluster.member(leader).port, replica: replica.port },
      routers,
      readyInMs: Math.round(performance.now() - started),
      router,
      endpoint: (cell) => ({ host: '127.0.0.1', port: router(cell.routerTls).port(cell.listener), database: 'postgres', sslmode: cell.sslmode, ...roleFor[cell.hba] }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
