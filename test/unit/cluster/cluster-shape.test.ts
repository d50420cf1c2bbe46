import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveShape, type ClusterShape } from '../../cluster/cluster-shape.js';
import { patroniConfig, type PatroniMemberSpec } from '../../cluster/patroni-config.js';
import { patroni4Dir, patroniInstall } from '../../cluster/patroni-install.js';
import { startCluster } from '../../cluster/patroni-cluster.js';
import { passwordEncryption, pgHbaLines } from '../../cluster/pg-hba.js';

// The pure half of the cluster shapes; test/integration/cluster-shapes.test.ts proves each
// shape on a real cluster.

const tls = { certFile: '/c/server.crt', keyFile: '/c/server.key' };

function spec(shape: Partial<ClusterShape>): PatroniMemberSpec {
  return {
    scope: 'batman',
    namespace: '/service/',
    name: 'pg0',
    dcs: 'etcd3',
    etcdHostPort: '127.0.0.1:2379',
    restPort: 8008,
    pgPort: 5432,
    dataDir: '/d',
    binDir: '/b',
    socketDir: '/s',
    pgpassFile: '/p',
    tls,
    timing: { ttl: 20, loopWait: 2, retryTimeout: 5 },
    shape: resolveShape(shape),
    failsafeMode: false,
    tags: {},
  };
}

interface MemberConfig {
  restapi: Record<string, unknown>;
  ctl?: Record<string, unknown>;
  bootstrap: { dcs: { synchronous_mode: unknown } };
  postgresql: { parameters: Record<string, unknown>; pg_hba: string[] };
}
const config = (shape: Partial<ClusterShape>): MemberConfig => patroniConfig(spec(shape)) as unknown as MemberConfig;

describe('cluster shapes', () => {
  it("defaults to today's shape: patroni 3, ssl on, mixed pg_hba, plain-HTTP REST API, no sync", () => {
    expect(resolveShape({})).toEqual({ patroni: '3', ssl: true, hba: 'mixed', restTls: false, synchronousMode: false });
    const c = config({});
    expect(c.restapi).toEqual({ listen: '127.0.0.1:8008', connect_address: '127.0.0.1:8008' });
    expect(c.ctl).toBeUndefined();
    expect(c.postgresql.parameters).toMatchObject({ ssl: 'on', ssl_cert_file: tls.certFile, ssl_key_file: tls.keyFile });
    expect(c.postgresql.parameters.password_encryption).toBeUndefined();
    expect(c.postgresql.pg_hba).toEqual([
      'local all all trust',
      'local replication all trust',
      'host replication replicator 127.0.0.1/32 scram-sha-256',
      'host all md5user 127.0.0.1/32 md5',
      'host all scramuser 127.0.0.1/32 scram-sha-256',
      'host all patroni_router_auth 127.0.0.1/32 scram-sha-256',
      'host all rejecteduser 127.0.0.1/32 reject',
      'host all all 127.0.0.1/32 trust',
    ]);
    expect(c.bootstrap.dcs.synchronous_mode).toBe(false);
  });

  it('leaves ssl to PostgreSQL (off) when ssl is false', () => {
    const parameters = config({ ssl: false }).postgresql.parameters;
    expect(Object.keys(parameters).filter((k) => k.startsWith('ssl'))).toEqual([]);
  });

  it.each(['trust', 'md5', 'scram-sha-256'] as const)('applies %s to every host line, replication too', (method) => {
    expect(pgHbaLines(method)).toEqual([
      'local all all trust',
      'local replication all trust',
      `host replication replicator 127.0.0.1/32 ${method}`,
      `host all all 127.0.0.1/32 ${method}`,
    ]);
  });

  it('stores passwords so that every role can log in under the chosen method', () => {
    expect(config({ hba: 'md5' }).postgresql.parameters.password_encryption).toBe('md5');
    const roles = ['md5user', 'scramuser', 'default'] as const;
    expect(roles.map((r) => passwordEncryption('mixed', r))).toEqual(['md5', 'scram-sha-256', 'scram-sha-256']);
    expect(roles.map((r) => passwordEncryption('md5', r))).toEqual(['md5', 'scram-sha-256', 'md5']);
    // A scram-sha-256 line cannot check an md5 hash.
    expect(roles.map((r) => passwordEncryption('scram-sha-256', r))).toEqual(['scram-sha-256', 'scram-sha-256', 'scram-sha-256']);
  });

  it('serves the REST API over HTTPS with the self-signed cert and makes patronictl trust it', () => {
    const c = config({ restTls: true });
    expect(c.restapi).toMatchObject({ certfile: tls.certFile, keyfile: tls.keyFile });
    expect(c.ctl).toEqual({ cacert: tls.certFile });
    expect(c.ctl).not.toHaveProperty('insecure');
  });

  it("passes synchronous_mode 'quorum' to Patroni 4 and refuses it for Patroni 3", async () => {
    expect(config({ patroni: '4', synchronousMode: 'quorum' }).bootstrap.dcs.synchronous_mode).toBe('quorum');
    expect(() => resolveShape({ synchronousMode: 'quorum' })).toThrow("synchronousMode 'quorum' needs patroni '4'");
    // Refused before anything is started: errors after that are wrapped in "startCluster failed: ...".
    await expect(startCluster({ patroni: '3', synchronousMode: 'quorum' })).rejects.toThrow(/^synchronousMode 'quorum' needs patroni '4'/);
  });

  it('rejects values plain JavaScript callers could pass', () => {
    expect(() => resolveShape({ patroni: '5' as '4' })).toThrow("patroni must be '3' or '4'");
    expect(() => resolveShape({ hba: 'peer' as 'md5' })).toThrow('hba must be one of mixed, trust, md5, scram-sha-256');
  });
});

describe('patroni installs', () => {
  it("runs '3' from PATH and '4' on /usr/bin/python3 with the private dir first on the module path", () => {
    expect(patroniInstall('3')).toMatchObject({ patroni: { command: 'patroni', args: [] }, env: {} });
    const fake = fs.mkdtempSync(`${os.tmpdir()}/patroni-install-test-`);
    try {
      fs.mkdirSync(`${fake}/usr/lib/python3/dist-packages/patroni`, { recursive: true });
      fs.writeFileSync(`${fake}/usr/lib/python3/dist-packages/patroni/__init__.py`, '');
      expect(patroniInstall('4', fake)).toEqual({
        major: '4',
        patroni: { command: '/usr/bin/python3', args: ['-m', 'patroni'] },
        patronictl: { command: '/usr/bin/python3', args: ['-c', 'from patroni.ctl import ctl; ctl()'] },
        env: { PYTHONPATH: `${fake}/usr/lib/python3/dist-packages` },
      });
    } finally {
      fs.rmSync(fake, { recursive: true, force: true });
    }
  });

  it('names install-deps.sh when patroni 4 is not unpacked', () => {
    expect(() => patroniInstall('4', '/nonexistent/patroni-4.0.7')).toThrow(/not unpacked in \/nonexistent\/patroni-4\.0\.7; run scripts\/install-deps\.sh/);
    expect(patroni4Dir).toBe('/opt/patroni-router/patroni-4.0.7');
  });
});
