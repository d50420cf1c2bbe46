import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderPgpoolConfig } from '../../../bench/pgpool-config.js';
import { renderRouterConfig } from '../../../bench/router-config.js';
import { parseConfig } from '../../../src/config/load.js';

describe("the mixed workload's proxies", () => {
  it('renders a pgpool.conf in streaming-replication mode with load balancing, reads to a standby, on loopback', () => {
    const text = renderPgpoolConfig({
      port: 9999,
      dir: '/tmp/pgpool-x',
      members: [
        { host: '127.0.0.1', port: 5432 },
        { host: '127.0.0.1', port: 5433 },
        { host: '127.0.0.1', port: 5434 },
      ],
      children: 40,
      database: 'postgres',
      checkUser: 'trustuser',
    });
    const lines = text.split('\n').map((l) => l.replace(/\s+#.*$/, ''));
    for (const wanted of [
      "backend_clustering_mode = 'streaming_replication'",
      "listen_addresses = '127.0.0.1'",
      'port = 9999',
      "pcp_listen_addresses = ''",
      "socket_dir = '/tmp/pgpool-x'",
      "pid_file_name = '/tmp/pgpool-x/pgpool.pid'",
      "load_balance_mode = 'on'",
      "database_redirect_preference_list = 'postgres:standby'",
      'num_init_children = 40',
      "sr_check_user = 'trustuser'",
      "health_check_user = 'trustuser'",
      'health_check_period = 5',
      'backend_port2 = 5434',
      "backend_hostname0 = '127.0.0.1'",
    ]) {
      expect(lines).toContain(wanted);
    }
    expect(text).not.toMatch(/'\*'/);
  });

  it("renders a router YAML with a split listener and its auth section that the router's own loader accepts", () => {
    const text = renderRouterConfig({
      scope: 'bench',
      namespace: '/service/',
      etcdEndpoint: 'http://127.0.0.1:2379',
      primaryPort: 6000,
      replicaPort: 6001,
      adminPort: 6002,
      split: { port: 6003, auth: { user: 'patroni_router_auth', password: 'secret', database: 'postgres' } },
    });
    expect(parse(text).auth).toEqual({ user: 'patroni_router_auth', password: 'secret', database: 'postgres' });
    const config = parseConfig(text, 'bench.yml', {});
    expect(config.listeners.map((l) => [l.name, l.port, l.split !== undefined])).toEqual([
      ['primary', 6000, false],
      ['replicas', 6001, false],
      ['split', 6003, true],
    ]);
    expect(config.listeners[2]?.split).toMatchObject({ consistency: 'read-your-writes', replicaRoute: 'replica', replayPollMs: 50, replicaWaitMs: 50 });
    expect(config.auth?.user).toBe('patroni_router_auth');
  });
});
