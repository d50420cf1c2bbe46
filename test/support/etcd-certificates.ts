/**
 * A throwaway PKI for etcd over TLS: a CA, a server certificate for 127.0.0.1 and a client
 * certificate (CN=root), all made with openssl in a temp dir the caller removes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { childEnvironment } from '../cluster/os-user.js';
import { runCommand } from '../cluster/run-command.js';

export interface EtcdCertificates {
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await runCommand('openssl', args, { cwd: dir, env: childEnvironment(dir) });
}

/** Signs a fresh key's certificate with the CA; `extensions` go into an extfile. */
async function issue(dir: string, name: string, subject: string, extensions: string, ca: { cert: string; key: string }): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, extensions);
  await openssl(dir, ['req', '-new', '-nodes', '-newkey', 'rsa:2048', '-subj', subject, '-keyout', key, '-out', csr]);
  await openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-out', cert]);
  fs.chmodSync(key, 0o600);
  return { cert, key };
}

export async function createEtcdCertificates(dir: string): Promise<EtcdCertificates> {
  fs.mkdirSync(dir, { recursive: true });
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  await openssl(dir, [
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    'rsa:2048',
    '-days',
    '30',
    '-subj',
    '/CN=patroni-router test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    caKey,
    '-out',
    caCert,
  ]);
  const ca = { cert: caCert, key: caKey };
  const server = await issue(dir, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n', ca);
  const client = await issue(dir, 'client', '/CN=root', 'extendedKeyUsage=clientAuth\n', ca);
  return { caFile: caCert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}
