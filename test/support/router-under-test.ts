/**
 * Starts a PatroniRouter in the test process in front of a harness cluster, on free loopback
 * ports, with its logs captured so a test can assert on them.
 */
import { parseConfig } from '../../src/config/load.js';
import type { RouterConfig } from '../../src/config/types.js';
import { PatroniRouter } from '../../src/patroni-router.js';
import type { ProxyEvents } from '../../src/proxy/proxy-events.js';
import { freePort, type PatroniCluster } from '../cluster/index.js';
import { captureLog } from './log-capture.js';

export interface RouterUnderTest {
  router: PatroniRouter;
  config: RouterConfig;
  /** Port of the named listener. */
  port(listener: string): number;
  /** libpq-style connection settings for node-postgres through a listener. */
  connection(listener: string, extra?: Record<string, unknown>): { host: string; port: number; user: string; database: string } & Record<string, unknown>;
  logLines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** The DCS block an operator would paste from the cluster's patroni.yml. */
export function dcsBlock(cluster: PatroniCluster): string {
  const hostPort = cluster.etcd.endpoint.replace(/^https?:\/\//, '');
  return cluster.dcs === 'etcd3'
    ? `scope: ${cluster.scope}\nnamespace: ${cluster.namespace}\netcd3:\n  hosts: ${hostPort}\n`
    : `scope: ${cluster.scope}\nnamespace: ${cluster.namespace}\netcd:\n  host: ${hostPort}\n`;
}

/**
 * `listenersYaml` is the `listeners:` list with `port: 0` placeholders replaced by free ports,
 * e.g. `- {name: primary, port: 0, route: primary}`.
 */
export async function startRouter(
  cluster: PatroniCluster,
  listenersYaml: string,
  opts: {
    extraYaml?: string;
    events?: ProxyEvents[];
    logLevel?: string;
    /** The `admin:` block; off unless given. */ admin?: string;
    /** Replaces the DCS block (e.g. REST-only mode). */ dcs?: string;
  } = {},
): Promise<RouterUnderTest> {
  let yaml = `${opts.dcs ?? dcsBlock(cluster)}listeners:\n${listenersYaml}\nadmin: ${opts.admin ?? '{enabled: false}'}\nlog: {level: ${opts.logLevel ?? 'info'}}\n${opts.extraYaml ?? ''}`;
  while (yaml.includes('port: 0,')) yaml = yaml.replace('port: 0,', `port: ${await freePort()},`);
  const config = parseConfig(yaml, 'test router config');
  // Every line kept: tests read from an index they noted earlier.
  const log = captureLog(config.log.level, Infinity);
  const logger = log.logger;
  const router = new PatroniRouter({ config, logger, ...(opts.events ? { events: opts.events } : {}) });
  await router.start();
  const port = (listener: string): number => {
    const found = router.listeners().find((l) => l.name === listener && !l.retired);
    if (found?.port === undefined) throw new Error(`no listener ${listener}`);
    return found.port;
  };
  return {
    router,
    config,
    port,
    connection: (listener, extra = {}) => ({ host: '127.0.0.1', port: port(listener), user: 'postgres', database: 'postgres', ...extra }),
    logLines: () => log.lines(),
    stop: () => router.shutdown(),
  };
}
