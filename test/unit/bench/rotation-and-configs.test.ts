import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderHaproxyConfig } from '../../../bench/haproxy-config.js';
import { haproxyServerName, parseHaproxyStatsCsv, serversUp } from '../../../bench/haproxy-stats.js';
import { parseCpuTicks, parseVmRssKb } from '../../../bench/process-usage.js';
import { rotatedOrder } from '../../../bench/rotation.js';
import { renderRouterConfig } from '../../../bench/router-config.js';
import { parseConfig } from '../../../src/config/load.js';

describe('interleaving', () => {
  it('rotates the endpoints so each runs first once per cycle', () => {
    const e = ['direct', 'haproxy', 'router'];
    expect([0, 1, 2, 3].map((r) => rotatedOrder(e, r).join(','))).toEqual(['direct,haproxy,router', 'haproxy,router,direct', 'router,direct,haproxy', 'direct,haproxy,router']);
    expect(rotatedOrder([], 3)).toEqual([]);
  });
});

describe('proxy configurations', () => {
  it("renders Patroni's HAProxy template with loopback binds and this cluster's ports", () => {
    const cfg = renderHaproxyConfig({
      primaryPort: 5000,
      replicaPort: 5001,
      statsPort: 7000,
      maxConnections: 1100,
      members: [
        { host: '127.0.0.1', port: 5432, restPort: 8008 },
        { host: '127.0.0.1', port: 5433, restPort: 8009 },
      ],
    });
    expect(cfg).toContain('listen master\n    bind 127.0.0.1:5000\n    option httpchk OPTIONS /master\n    http-check expect status 200\n');
    expect(cfg).toContain('listen replicas\n    bind 127.0.0.1:5001\n    option httpchk OPTIONS /replica\n');
    expect(cfg.match(/default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions/g)).toHaveLength(2);
    expect(cfg).toContain('    server postgresql_127.0.0.1_5433 127.0.0.1:5433 maxconn 1100 check port 8009');
    for (const t of ['timeout client 30m', 'timeout server 30m', 'timeout connect 4s', 'timeout check 5s']) expect(cfg).toContain(t);
    expect(cfg).not.toMatch(/bind \*:/);
  });

  it("renders a router YAML that the router's own config loader accepts", () => {
    const text = renderRouterConfig({ scope: 'bench', namespace: '/service/', etcdEndpoint: 'http://127.0.0.1:2379', primaryPort: 6000, replicaPort: 6001, adminPort: 6002 });
    expect(parse(text).etcd3).toEqual({ hosts: '127.0.0.1:2379' });
    const config = parseConfig(text, 'bench.yml', {});
    expect(config.listeners.map((l) => [l.name, l.port, l.route])).toEqual([
      ['primary', 6000, 'primary'],
      ['replicas', 6001, 'replica'],
    ]);
    expect(config.admin.port).toBe(6002);
    expect(config.tls.backend.mode).toBe('disable');
  });
});

describe('/proc readings', () => {
  it('adds utime and stime even when the command name has spaces and parentheses', () => {
    const stat = '8743 (my (odd) cmd) R 8739 8739 6446 0 -1 4194304 126 0 0 0 250 31 0 0 20 0 1 0 47981 3133440 392';
    expect(parseCpuTicks(stat)).toBe(281);
  });

  it('reads VmRSS', () => {
    expect(parseVmRssKb('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   53124 kB\n')).toBe(53124);
    expect(() => parseVmRssKb('Name:\tzombie\n')).toThrow(/VmRSS/);
  });
});

describe("HAProxy's stats CSV", () => {
  it('lists the servers each listen block has UP, counting "UP 1/3" (going down) as up', () => {
    const csv = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight',
      'master,FRONTEND,,,0,0,2200,0,0,0,0,0,0,,,,,OPEN,',
      'master,postgresql_127.0.0.1_5432,0,0,0,0,1100,0,0,0,,0,,0,0,0,0,UP 1/3,1',
      'master,postgresql_127.0.0.1_5433,0,0,0,0,1100,0,0,0,,0,,0,0,0,0,DOWN,1',
      'master,BACKEND,0,0,0,0,220,0,0,0,0,0,,0,0,0,0,UP,1',
      'replicas,postgresql_127.0.0.1_5433,0,0,0,0,1100,0,0,0,,0,,0,0,0,0,UP,1',
      '',
    ].join('\n');
    const statuses = parseHaproxyStatsCsv(csv);
    expect(statuses).toHaveLength(3);
    expect(serversUp(statuses, 'master')).toEqual([haproxyServerName('127.0.0.1', 5432)]);
    expect(serversUp(statuses, 'replicas')).toEqual(['postgresql_127.0.0.1_5433']);
    expect(() => parseHaproxyStatsCsv('')).toThrow(/empty/);
    expect(() => parseHaproxyStatsCsv('# a,b\n')).toThrow(/pxname/);
  });
});
