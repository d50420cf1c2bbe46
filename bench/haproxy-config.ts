import { haproxyServerName } from './haproxy-stats.js';

/**
 * HAProxy configuration following Patroni's template (the `listen master` / `listen replicas`
 * blocks checking each member's REST API with OPTIONS /master and /replica,
 * `inter 3s fall 3 rise 2 on-marked-down shutdown-sessions`, the template's timeouts), bound to
 * loopback and this cluster's ports. Pure.
 *
 * One deliberate change: the template's `maxconn 100` (global and per server) becomes
 * `maxConnections`, so HAProxy can carry the same 1,000 idle sessions as the router in the
 * memory measurement; with 100 it would queue them and drop them after `timeout connect`.
 */

export interface HaproxyMember {
  host: string;
  port: number;
  restPort: number;
}

export interface HaproxyLayout {
  primaryPort: number;
  replicaPort: number;
  statsPort: number;
  members: readonly HaproxyMember[];
  maxConnections: number;
}

function serverLines(members: readonly HaproxyMember[], maxConnections: number): string[] {
  return members.map((m) => `    server ${haproxyServerName(m.host, m.port)} ${m.host}:${m.port} maxconn ${maxConnections} check port ${m.restPort}`);
}

export function renderHaproxyConfig(layout: HaproxyLayout): string {
  const lines = [
    'global',
    `    maxconn ${layout.maxConnections * 2}`,
    '',
    'defaults',
    '    log global',
    '    mode tcp',
    '    retries 2',
    '    timeout client 30m',
    '    timeout connect 4s',
    '    timeout server 30m',
    '    timeout check 5s',
    '',
    'listen stats',
    '    mode http',
    `    bind 127.0.0.1:${layout.statsPort}`,
    '    stats enable',
    '    stats uri /',
    '',
    'listen master',
    `    bind 127.0.0.1:${layout.primaryPort}`,
    '    option httpchk OPTIONS /master',
    '    http-check expect status 200',
    '    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions',
    ...serverLines(layout.members, layout.maxConnections),
    '',
    'listen replicas',
    `    bind 127.0.0.1:${layout.replicaPort}`,
    '    option httpchk OPTIONS /replica',
    '    http-check expect status 200',
    '    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions',
    ...serverLines(layout.members, layout.maxConnections),
    '',
  ];
  return lines.join('\n');
}
