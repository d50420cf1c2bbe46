// `npm run demo`: a real 3-member Patroni cluster on loopback to try the router against.
import {
  credentials,
  startCluster,
  type ClusterMember,
  type PatroniCluster,
} from '../test/cluster/index.js';

interface RouterInFront {
  /** Connection strings a client uses, by route name (e.g. primary, replica). */
  endpoints: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * ROUTER WIRING POINT: start patroni-router in front of `cluster` and return its endpoints.
 * Not wired yet: the router integration fills this in.
 */
async function startRouterInFront(cluster: PatroniCluster): Promise<RouterInFront | undefined> {
  void cluster;
  return undefined;
}

function directUrl(m: ClusterMember): string {
  const { user, password } = credentials.scram;
  return `postgresql://${user}:${password}@${m.host}:${m.port}/postgres?sslmode=require`;
}

async function main(): Promise<void> {
  console.log('demo: starting etcd and a 3-member Patroni cluster on 127.0.0.1 ...');
  const started = Date.now();
  const cluster = await startCluster({ scope: 'demo' });
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

  router = await startRouterInFront(cluster);
  if (router) {
    console.log('\nthrough patroni-router:');
    for (const [route, url] of Object.entries(router.endpoints)) console.log(`  ${route.padEnd(8)} psql '${url}'`);
  } else {
    console.log('\nthe router is not wired into the demo yet (see startRouterInFront in scripts/demo.ts).');
  }
  console.log('\nCtrl-C to stop and clean up.');
  // The cluster's processes are unref'd; keep the demo alive until a signal arrives.
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
