import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'router.yml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('router.yml');
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it("accepts Patroni's DCS block pasted as is and opens the HAProxy template's ports", () => {
    const config = parseConfig('scope: batman\nnamespace: /service/\netcd3:\n  hosts: 10.0.0.1:2379,10.0.0.2:2379\n', 'r.yml', {});
    expect(config.clusters).toHaveLength(1);
    expect(config.clusters[0]?.etcd).toEqual({ api: 'etcd3', endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'] });
    expect(config.listeners.map((l) => [l.name, l.port, l.route])).toEqual([
      ['primary', 5000, 'primary'],
      ['replicas', 5001, 'replica'],
    ]);
    expect(config.listeners[0]?.cluster).toBe('batman');
    expect(config.listeners.map((l) => [l.holdTimeoutMs, l.queueTimeoutMs, l.maxClients, l.maxconn])).toEqual([
      ['auto', 5000, 5000, undefined],
      ['auto', 5000, 5000, undefined],
    ]);
    expect(config.authenticationTimeoutMs).toBe(60_000);
    expect(config.admin).toEqual({ enabled: true, host: '127.0.0.1', port: 7000 });
  });

  it('takes hosts as a YAML list, v2 `etcd: host:`, https, and a bare host with the default port', () => {
    const v3 = parseConfig('scope: a\netcd3:\n  protocol: https\n  hosts: [e1, "e2:2380"]\n', 'r.yml', {});
    expect(v3.clusters[0]?.etcd?.endpoints).toEqual(['https://e1:2379', 'https://e2:2380']);
    const v2 = parseConfig('scope: a\nnamespace: service\netcd:\n  host: 127.0.0.1:2379\n', 'r.yml', {});
    expect(v2.clusters[0]?.etcd?.api).toBe('etcd');
    expect(v2.clusters[0]?.namespace).toBe('/service/');
  });

  it('resolves units for durations and lag, and the per-listener options', () => {
    const config = parseConfig(
      [
        'scope: batman',
        'etcd3: {hosts: "127.0.0.1:2379"}',
        'listeners:',
        '  - {name: replicas, port: 6001, route: replica, max_lag: 16MB, balance: least-connections, fallback: primary, hold_timeout: 500ms, connect_timeout: 2, tags: {datacenter: dc1, nostream: false}}',
      ].join('\n'),
      'r.yml',
      {},
    );
    const listener = config.listeners[0];
    expect(listener?.maxLagBytes).toBe(16 * 1024 * 1024);
    expect(listener?.holdTimeoutMs).toBe(500);
    expect(listener?.connectTimeoutMs).toBe(2000);
    expect(listener?.tags).toEqual({ datacenter: 'dc1', nostream: 'false' });
    expect(listener?.allowedTargets).toEqual(['replica', 'sync', 'async', 'quorum']);
  });

  it('names the field of every problem', () => {
    const problems = problemsOf('scope: batman\netcd3: {hosts: x}\nlisteners:\n  - {name: p, port: 99999, route: writer}\n  - {name: p, port: 5, route: primary, colour: red}\n');
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^listeners\[0\]\.port: /),
        expect.stringMatching(/^listeners\[0\]\.route: /),
        expect.stringMatching(/^listeners\[1\]: unknown key `colour`/),
      ]),
    );
  });

  it('refuses a file without a DCS, with two DCS, or with a listener for an unknown cluster', () => {
    expect(problemsOf('scope: batman\n')).toEqual([expect.stringContaining('give exactly one of `etcd3`')]);
    expect(problemsOf('scope: b\netcd3: {hosts: a}\netcd: {host: b}\n')[0]).toContain('exactly one');
    expect(problemsOf('etcd3: {hosts: a}\n')[0]).toMatch(/^scope: /);
    expect(
      problemsOf(
        'clusters:\n  - {scope: a, etcd3: {hosts: x}}\n  - {scope: b, etcd3: {hosts: y}}\nlisteners:\n  - {name: p, port: 5000, route: primary}\n  - {name: q, port: 5001, route: replica, cluster: c}\n',
      ),
    ).toEqual([expect.stringContaining('listeners[0] (p).cluster: several clusters'), expect.stringContaining('no followed cluster has scope "c"')]);
  });

  it('reports YAML syntax errors and unreadable files with the file name', () => {
    expect(problemsOf('scope: [unclosed\n')[0]).toMatch(/^YAML: /);
    expect(() => loadConfig('/nonexistent/router.yml')).toThrow(/\/nonexistent\/router\.yml[\s\S]*cannot read the file/);
  });

  it('reads secrets from the environment or a file, and says which variable is missing without leaking values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-config-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 's3cret-token\n');
    let config;
    try {
      config = parseConfig(`scope: a\netcd3: {hosts: x, username: root, password_env: ETCD_PW}\nadmin: {token_file: ${tokenFile}}\n`, 'r.yml', { ETCD_PW: 'hunter2' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(config.clusters[0]?.etcd?.password).toBe('hunter2');
    expect(config.admin.token).toBe('s3cret-token');
    const problems = problemsOf('scope: a\netcd3: {hosts: x, password_env: NOPE}\n');
    expect(problems).toEqual(['etcd3.password_env: environment variable NOPE is not set']);
    const both = problemsOf('scope: a\netcd3: {hosts: x, password: a, password_env: B}\n');
    expect(both[0]).toContain('give only one of');
    expect(both.join(' ')).not.toContain('hunter2');
  });

  it('refuses half a TLS pair and verify-full without a CA', () => {
    expect(problemsOf('scope: a\netcd3: {hosts: x}\ntls: {cert: /c.pem}\n')[0]).toContain('`cert` and `key` go together');
    expect(problemsOf('scope: a\netcd3: {hosts: x}\ntls: {backend: {mode: verify-full}}\n')[0]).toContain('tls.backend.ca');
  });

  it("takes TLS settings for Patroni's HTTPS REST API and names an unreadable file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'rest-tls-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'not checked here');
      const base = 'scope: b\netcd3: {hosts: 127.0.0.1:2379}\n';
      const config = parseConfig(`${base}topology: {rest_tls: {ca: ${join(dir, 'ca.pem')}}}\n`, 'r.yml', {});
      expect(config.clusters[0]?.topology.restTls).toEqual({ ca: join(dir, 'ca.pem'), verify: true });
      expect(parseConfig(`${base}topology: {rest_tls: {verify: false}}\n`, 'r.yml', {}).clusters[0]?.topology.restTls).toEqual({ verify: false });
      expect(problemsOf(`${base}topology: {rest_tls: {ca: ${join(dir, 'missing.pem')}}}\n`)).toEqual([`topology.rest_tls.ca: cannot read ${join(dir, 'missing.pem')} (ENOENT)`]);
      expect(problemsOf(`${base}topology: {rest_tls: {cert: ${join(dir, 'ca.pem')}}}\n`)[0]).toMatch(/topology.rest_tls.*`cert` and `key` go together/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses duplicate listener names and addresses', () => {
    const problems = problemsOf('scope: a\netcd3: {hosts: x}\nlisteners:\n  - {name: p, port: 5000, route: primary}\n  - {name: p, port: 5000, route: replica}\n');
    expect(problems).toEqual([expect.stringContaining('"p" is used twice'), expect.stringContaining('127.0.0.1:5000 is used twice')]);
  });
  it('takes `workers`: 1 by default (one process, as before), `auto`, or a whole number up to 127', () => {
    const base = 'scope: a\netcd3: {hosts: x}\n';
    expect(parseConfig(base, 'r.yml', {}).workers).toBe(1);
    expect(parseConfig(`${base}workers: auto\n`, 'r.yml', {}).workers).toBe('auto');
    expect(parseConfig(`${base}workers: 4\n`, 'r.yml', {}).workers).toBe(4);
    expect(parseConfig(`${base}workers: 127\n`, 'r.yml', {}).workers).toBe(127);
    for (const bad of ['0', '-2', '1.5', '128', 'many', '"2"']) {
      expect(problemsOf(`${base}workers: ${bad}\n`), `workers: ${bad}`).toEqual(['workers: expected `auto` or a whole number from 1 to 127']);
    }
  });
});
