import fs from 'node:fs';
import path from 'node:path';
import { childEnvironment } from './os-user.js';
import { runCommand } from './run-command.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A self-signed certificate for CN=127.0.0.1 (also usable by the router for TLS termination). */
export async function createSelfSignedCert(dir: string): Promise<TlsFiles> {
  fs.mkdirSync(dir, { recursive: true });
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  await runCommand(
    'openssl',
    ['req', '-x509', '-nodes', '-newkey', 'rsa:2048', '-days', '30', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    { cwd: dir, env: childEnvironment(dir) },
  );
  // PostgreSQL refuses a key readable by others.
  fs.chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}
