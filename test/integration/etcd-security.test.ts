/**
 * The router's topology follower against etcd with authentication (v3 users and the separate
 * v2 user store) and against etcd with TLS and client certificates, configured through the
 * YAML an operator writes (parseConfig), with Patroni-shaped keys written by etcdctl.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ClusterFollower } from '../../src/topology/cluster-follower.js';
import type { ClusterState } from '../../src/topology/cluster-state.js';
import { startEtcd, waitFor, type EtcdHandle } from '../cluster/index.js';
import { forgetDir, registerDir } from '../cluster/process-registry.js';
import { createEtcdCertificates, type EtcdCertificates } from '../support/etcd-certificates.js';
import { putKey, type EtcdTarget } from '../support/etcdctl.js';
import { captureLog } from '../support/log-capture.js';
import { memberValue, twoMemberKeys } from '../support/patroni-keys.js';
import { enableV2Auth, enableV3Auth, startTlsEtcd, type TlsEtcd } from '../support/secured-etcd.js';

const PASSWORD = 'etcd-Pw-7f3a9c1e';
const WRONG_PASSWORD = 'wrong-Pw-51be04d2';
const APIS = ['etcd3', 'etcd'] as const;
type Api = (typeof APIS)[number];

/** A follower built from YAML, its log lines kept as text. */
interface FollowerUnderTest {
  follower: ClusterFollower;
  log: () => string;
}

const followers: ClusterFollower[] = [];

function followFromYaml(yaml: string, env: NodeJS.ProcessEnv = {}): FollowerUnderTest {
  const config = parseConfig(yaml, 'etcd-security test config', env);
  const source = config.clusters[0];
  if (source === undefined) throw new Error('no cluster in the config');
  const log = captureLog('trace', Infinity);
  const follower = new ClusterFollower(source, log.logger);
  followers.push(follower);
  follower.start();
  return { follower, log: () => log.text() };
}

function sees(f: FollowerUnderTest, what: string, ok: (s: ClusterState) => boolean, timeoutMs = 20_000): Promise<ClusterState> {
  return waitFor(
    `the follower to see ${what}`,
    () => {
      const s = f.follower.current();
      return s !== undefined && ok(s) ? s : false;
    },
    { timeoutMs, intervalMs: 20, diagnostics: () => `status ${JSON.stringify(f.follower.status())}\n${f.log().slice(-2000)}` },
  );
}

/** Leader moves to pg1 as Patroni writes it: the new primary's member key, the old one's, then the leader key. */
async function moveLeaderToPg1(api: Api, target: EtcdTarget, scopePath: string): Promise<void> {
  await putKey(api, target, `${scopePath}members/pg1`, memberValue('master', 15433));
  await putKey(api, target, `${scopePath}members/pg0`, memberValue('replica', 15432));
  await putKey(api, target, `${scopePath}leader`, 'pg1');
}

const DCS_SECTION: Record<Api, string> = { etcd3: 'etcd3', etcd: 'etcd' };
const QUIET_TOPOLOGY = 'topology: {probe_interval: 0, resync_interval: 2s}\nadmin: {enabled: false}\n';

afterAll(async () => {
  await Promise.all(followers.splice(0).map((f) => f.stop()));
});

describe('etcd with authentication', () => {
  let etcd: EtcdHandle;
  const hostPort = (): string => etcd.endpoint.replace(/^http:\/\//, '');
  const root = (): EtcdTarget => ({ endpoint: etcd.endpoint, user: `root:${PASSWORD}` });
  const right: Partial<Record<Api, FollowerUnderTest>> = {};
  const wrong: Partial<Record<Api, FollowerUnderTest>> = {};

  beforeAll(async () => {
    etcd = await startEtcd({ v2: true });
    await enableV3Auth(etcd.endpoint, PASSWORD);
    await enableV2Auth(etcd.endpoint, PASSWORD);
    for (const api of APIS) for (const [key, value] of twoMemberKeys('pg0')) await putKey(api, root(), `/service/auth-${api}/${key}`, value);
  });

  afterAll(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
    await etcd?.close();
  });

  const yaml = (api: Api, passwordLine: string): string =>
    `scope: auth-${api}\n${DCS_SECTION[api]}:\n  hosts: ${hostPort()}\n  username: root\n  ${passwordLine}\n${QUIET_TOPOLOGY}`;

  it('anonymous access is really refused (v3 and v2)', async () => {
    await expect(putKey('etcd3', { endpoint: etcd.endpoint }, '/service/auth-etcd3/leader', 'x')).rejects.toThrow(/user name is empty|permission denied/);
    await expect(putKey('etcd', { endpoint: etcd.endpoint }, '/service/auth-etcd/leader', 'x')).rejects.toThrow(/Insufficient credentials|authentication/i);
  });

  it.each(APIS)('%s: with the right password (password_env) the follower publishes pg0 as writable primary', async (api) => {
    const f = followFromYaml(yaml(api, 'password_env: ETCD_TEST_PASSWORD'), { ETCD_TEST_PASSWORD: PASSWORD });
    right[api] = f;
    const state = await sees(f, 'pg0 writable', (s) => s.writablePrimary === 'pg0');
    expect(state.members.map((m) => m.name)).toEqual(['pg0', 'pg1']);
    expect(f.follower.status().watch).toBe('connected');
  });

  it.each(APIS)('%s: with a wrong password nothing is published and the status says authentication failed', async (api) => {
    const f = followFromYaml(yaml(api, `password: ${WRONG_PASSWORD}`));
    wrong[api] = f;
    const reason = api === 'etcd3' ? /authentication failed/ : /401.*requires user authentication/;
    const status = await waitFor(
      `the ${api} follower to report the failed authentication`,
      () => {
        const s = f.follower.status();
        return s.lastError !== undefined && reason.test(s.lastError) ? s : undefined;
      },
      { timeoutMs: 20_000, diagnostics: () => `status ${JSON.stringify(f.follower.status())}\n${f.log().slice(-2000)}` },
    );
    expect(status.watch).not.toBe('connected');
    expect(f.follower.current()).toBeUndefined();
    expect(f.log()).toMatch(reason);
    expect(JSON.stringify(status)).not.toContain(WRONG_PASSWORD);
    expect(f.log()).not.toContain(WRONG_PASSWORD);
  });

  it.each(APIS)('%s: a leader change written with etcdctl reaches the authenticated follower', async (api) => {
    const f = right[api];
    if (f === undefined) throw new Error('the right-password follower did not start');
    await moveLeaderToPg1(api, root(), `/service/auth-${api}/`);
    const state = await sees(f, 'pg1 writable', (s) => s.writablePrimary === 'pg1');
    expect(state.members.find((m) => m.name === 'pg0')?.role).toBe('replica');
    // The wrong-password follower still has nothing.
    expect(wrong[api]?.follower.current()).toBeUndefined();
  });

  it('no follower ever logged either password, at trace level', () => {
    for (const f of [...Object.values(right), ...Object.values(wrong)]) {
      expect(f.log().length).toBeGreaterThan(0);
      expect(f.log()).not.toContain(PASSWORD);
      expect(f.log()).not.toContain(WRONG_PASSWORD);
      expect(f.log()).not.toContain(Buffer.from(`root:${PASSWORD}`).toString('base64'));
    }
  });
});

describe('etcd with TLS and client certificates', () => {
  let dir: string;
  let certs: EtcdCertificates;
  let etcd: TlsEtcd;
  const withCert = (): EtcdTarget => ({ endpoint: etcd.endpoint, tls: { caFile: certs.caFile, cert: certs.clientCert, key: certs.clientKey } });
  const hostPort = (): string => etcd.endpoint.replace(/^https:\/\//, '');
  const tlsFollowers: Partial<Record<Api, FollowerUnderTest>> = {};

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-etcd-tls-'));
    registerDir(dir);
    certs = await createEtcdCertificates(path.join(dir, 'pki'));
    etcd = await startTlsEtcd({ dir, certs, clientCertAuth: true });
    for (const api of APIS) for (const [key, value] of twoMemberKeys('pg0')) await putKey(api, withCert(), `/service/tls-${api}/${key}`, value);
  });

  afterAll(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
    await etcd?.close();
    if (dir !== undefined) {
      fs.rmSync(dir, { recursive: true, force: true });
      forgetDir(dir);
    }
  });

  const yaml = (api: Api, clientCert: boolean): string =>
    `scope: tls-${api}\n${DCS_SECTION[api]}:\n  hosts: ${hostPort()}\n  protocol: https\n  cacert: ${certs.caFile}\n` +
    (clientCert ? `  cert: ${certs.clientCert}\n  key: ${certs.clientKey}\n` : '') +
    QUIET_TOPOLOGY;

  it('plain http to the TLS port, and TLS without a client certificate, are both refused by etcd', async () => {
    await expect(putKey('etcd3', { endpoint: etcd.endpoint.replace('https:', 'http:'), commandTimeout: '1s' }, '/x', 'y')).rejects.toThrow();
    await expect(putKey('etcd3', { endpoint: etcd.endpoint, tls: { caFile: certs.caFile }, commandTimeout: '1s' }, '/x', 'y')).rejects.toThrow(/certificate|deadline/);
  });

  it.each(APIS)('%s: protocol https with cacert, cert and key: the follower publishes pg0', async (api) => {
    const f = followFromYaml(yaml(api, true));
    tlsFollowers[api] = f;
    await sees(f, 'pg0 writable over TLS', (s) => s.writablePrimary === 'pg0');
    expect(f.follower.status().watch).toBe('connected');
  });

  it.each(APIS)('%s: without the client certificate nothing is published and the status says why', async (api) => {
    const f = followFromYaml(yaml(api, false));
    const status = await waitFor(
      `the ${api} follower without a client certificate to report an error`,
      () => {
        const s = f.follower.status();
        return s.lastError !== undefined ? s : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(status.watch).not.toBe('connected');
    expect(f.follower.current()).toBeUndefined();
    // grpc-js passes on the TLS alert; undici (v2) only sees the socket closed by etcd.
    expect(status.lastError).toMatch(api === 'etcd3' ? /bad certificate/ : /other side closed|certificate|socket/);
  });

  it.each(APIS)('%s: a leader change over TLS reaches the follower', async (api) => {
    const f = tlsFollowers[api];
    if (f === undefined) throw new Error('the TLS follower did not start');
    await moveLeaderToPg1(api, withCert(), `/service/tls-${api}/`);
    await sees(f, 'pg1 writable over TLS', (s) => s.writablePrimary === 'pg1');
  });
});
