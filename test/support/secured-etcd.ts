/**
 * etcd the way a careful operator runs it: with authentication (v3 users, v2 users) or with
 * TLS and client certificates. Single member on free loopback ports, torn down by close().
 */
import fs from 'node:fs';
import path from 'node:path';
import { freePort, logTail, waitFor } from '../cluster/index.js';
import { childEnvironment } from '../cluster/os-user.js';
import { SpawnedProcess } from '../cluster/spawned-process.js';
import type { EtcdCertificates } from './etcd-certificates.js';
import { etcdctl } from './etcdctl.js';

export interface TlsEtcd {
  /** https://127.0.0.1:<port> */
  endpoint: string;
  close(): Promise<void>;
}

/** etcd serving clients over TLS only; with `clientCertAuth` it demands a certificate signed by the CA. */
export async function startTlsEtcd(opts: { dir: string; certs: EtcdCertificates; clientCertAuth: boolean }): Promise<TlsEtcd> {
  const dataDir = path.join(opts.dir, 'etcd-tls-data');
  const logFile = path.join(opts.dir, 'etcd-tls.log');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `https://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const { certs } = opts;
  const etcd = SpawnedProcess.start({
    what: `etcd (TLS) ${endpoint}`,
    command: 'etcd',
    args: [
      '--name',
      'etcd-tls',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `etcd-tls=${peerUrl}`,
      '--initial-cluster-state',
      'new',
      '--enable-v2=true',
      '--cert-file',
      certs.serverCert,
      '--key-file',
      certs.serverKey,
      '--trusted-ca-file',
      certs.caFile,
      ...(opts.clientCertAuth ? ['--client-cert-auth'] : []),
    ],
    logFile,
    cwd: opts.dir,
    env: childEnvironment(opts.dir),
    matches: dataDir,
  });
  const close = async (): Promise<void> => {
    await etcd.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `TLS etcd at ${endpoint} to be healthy`,
      async () => {
        if (!etcd.running) throw new Error(`etcd ${etcd.exitDescription ?? 'is not running'}`);
        // A read that succeeds (etcdctl exits 0) means TLS, the client certificate and raft are all up.
        await etcdctl('etcd3', { endpoint, tls: { caFile: certs.caFile, cert: certs.clientCert, key: certs.clientKey } }, ['get', '--', 'health-probe']);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200, diagnostics: () => logTail(logFile, 20) },
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, close };
}

/** v3 authentication: user root with the root role, then `auth enable` (anonymous requests fail). */
export async function enableV3Auth(endpoint: string, password: string): Promise<void> {
  await etcdctl('etcd3', { endpoint }, ['user', 'add', `root:${password}`]);
  await etcdctl('etcd3', { endpoint }, ['user', 'grant-role', 'root', 'root']);
  await etcdctl('etcd3', { endpoint }, ['auth', 'enable']);
}

async function v2Auth(method: string, url: string, body: unknown, basic?: string): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (basic !== undefined) headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  const res = await fetch(url, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url.replace(/\/\/.*@/, '//')}: ${res.status} ${text}`);
}

/**
 * v2 authentication, a separate store in etcd 3.4. `etcdctl user add` (API 2) only prompts on
 * a terminal, so this uses the v2 auth HTTP API: root user, `auth enable`, and the `guest`
 * role (anonymous access, read-write everywhere by default) loses its rights.
 */
export async function enableV2Auth(endpoint: string, password: string): Promise<void> {
  await v2Auth('PUT', `${endpoint}/v2/auth/users/root`, { user: 'root', password });
  await v2Auth('PUT', `${endpoint}/v2/auth/enable`, undefined);
  await v2Auth('PUT', `${endpoint}/v2/auth/roles/guest`, { role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } }, `root:${password}`);
}
