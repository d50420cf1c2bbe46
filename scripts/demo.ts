// `npm run demo`: a real 3-member Patroni cluster on loopback with patroni-router in front.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { authSetupSql } from '../src/proxy/backend/auth/auth-setup.js';
import { createLogger } from '../src/observe/logger.js';
import { PatroniRouter } from '../src/patroni-router.js';
import { credentials, freePort, startCluster, type ClusterMember, type PatroniCluster } from '../test/cluster/index.js';

interface RouterInFront {
  /** Connection strings a client uses, by route name (e.g. primary, replica). */
  endpoints: Record<string, string>;
  admin: string | undefined;
  configFile: string;
  stop(): Promise<void>;
}

/** The ports of Patroni's HAProxy template, and HAProxy's stats port for the admin page. */
const WANTED_PORTS = { primary: 5000, replicas: 5001, split: 5002, admin: 7000 };

async function portOrFree(wanted: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

/** Starts patroni-router in this process in front of `cluster`, as an operator would configure it. */
/**
 * The router's auth_query role, as `patroni-router auth-setup` prints it: sessions can then log
 * in again as their user, to move to a new primary and to split reads from writes.
 */
async function setUpAuthRole(cluster: PatroniCluster, leader: string): Promise<string> {
  const password = 'demo-auth-secret';
  await cluster.sql(leader, authSetupSql({ authRole: 'patroni_router_auth' }));
  await cluster.sql(leader, `SET password_encryption = 'scram-sha-256'; ALTER ROLE patroni_router_auth PASSWORD '${password}'`);
  return password;
}

async function startRouterInFront(cluster: PatroniCluster, authPassword: string): Promise<RouterInFront> {
  const [primary, replicas, split, admin] = [
    await portOrFree(WANTED_PORTS.primary),
    await portOrFree(WANTED_PORTS.replicas),
    await portOrFree(WANTED_PORTS.split),
    await portOrFree(WANTED_PORTS.admin),
  ];
  const yaml = [
    `scope: ${cluster.scope}`,
    `namespace: ${cluster.namespace}`,
    'etcd3:',
    `  hosts: ${cluster.etcd.endpoint.replace(/^https?:\/\//, '')}`,
    'listeners:',
    `  - {name: primary, port: ${primary}, route: primary}`,
    `  - {name: replicas, port: ${replicas}, route: replica, balance: least-connections, max_lag: 16MB, fallback: primary}`,
    // One endpoint: writes to the primary, reads to a replica, and each session reads its own writes.
    `  - {name: app, port: ${split}, route: split}`,
    `auth: {user: patroni_router_auth, password: ${authPassword}, database: postgres}`,
    `admin: {host: 127.0.0.1, port: ${admin}}`,
    // The router terminates TLS (with the members' demo certificate) so it can read each
    // client's startup, and with it a per-connection route choice, whatever its sslmode.
    `tls: {cert: ${cluster.tlsCertFile}, key: ${cluster.tlsKeyFile}}`,
  ].join('\n');
  const configFile = path.join(cluster.dir, 'router.yml');
  fs.writeFileSync(configFile, `${yaml}\n`);
  const config = loadConfig(configFile);
  const logger = createLogger({ level: 'warn', format: 'pretty', destination: process.stderr });
  const router = new PatroniRouter({ config, logger });
  await router.start();
  const { user, password } = credentials.scram;
  const url = (port: number): string => `postgresql://${user}:${password}@127.0.0.1:${port}/postgres`;
  return {
    endpoints: { primary: url(primary), replicas: url(replicas), 'sync only': `${url(replicas)}?options=-c%20patroni_router.target%3Dsync`, 'split r/w': url(split) },
    admin: router.adminUrl(),
    configFile,
    stop: () => router.shutdown(),
  };
}

function directUrl(m: ClusterMember): string {
  const { user, password } = credentials.scram;
  return `postgresql://${user}:${password}@${m.host}:${m.port}/postgres?sslmode=require`;
}

async function main(): Promise<void> {
  console.log('demo: starting etcd and a 3-member Patroni cluster on 127.0.0.1 ...');
  const started = Date.now();
  // Synchronous mode on, so the sync-only endpoint has a synchronous standby to reach.
  const cluster = await startCluster({ scope: 'demo', synchronousMode: true });
  let router: RouterInFront | undefined;
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\ndemo: ${signal}: tearing down ...`);
    await router?.stop();
    await cluster.stop();
    console.log('demo: stopped, nothing left running.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const leader = await cluster.waitForHealthy();
  console.log(`demo: healthy in ${((Date.now() - started) / 1000).toFixed(1)} s; scope ${cluster.scope}, etcd ${cluster.etcd.endpoint}`);
  console.log(`demo: leader is ${leader}\n`);
  console.log('members (direct connections; md5user/md5pass works too):');
  for (const m of cluster.members) {
    console.log(`  ${m.name.padEnd(4)} ${m.name === leader ? 'leader ' : 'replica'}  psql '${directUrl(m)}'   REST ${m.restUrl}/patroni`);
  }
  console.log(`\npatronictl: patronictl -c ${cluster.members[0]?.configFile} list`);

  router = await startRouterInFront(cluster, await setUpAuthRole(cluster, leader));
  console.log(`\nthrough patroni-router (config ${router.configFile}):`);
  for (const [route, url] of Object.entries(router.endpoints)) console.log(`  ${route.padEnd(9)} psql '${url}'`);
  if (router.admin) console.log(`\nstatus page and admin API: ${router.admin}  (metrics: ${router.admin}/metrics)`);
  console.log(
    `\ntry a switchover: sessions on the primary and split endpoints move to the new primary, with no error:\n  patronictl -c ${cluster.members[0]?.configFile} switchover --force`,
  );
  console.log('\nCtrl-C to stop and clean up.');
  // The cluster's processes are unref'd; keep the demo alive until a signal arrives.
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
