import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { TlsConfig } from '../config/types.js';

/** A PEM value in the config may be the PEM text itself or a path to a file holding it. */
export function readPem(valueOrPath: string): string {
  return valueOrPath.includes('-----BEGIN') ? valueOrPath : readFileSync(valueOrPath, 'utf8');
}

/** The context for terminating client TLS, or undefined (TLS then passes through to the backend). */
export function serverTlsContext(config: TlsConfig): tls.SecureContext | undefined {
  if (config.cert === undefined || config.key === undefined) return undefined;
  return tls.createSecureContext({
    cert: readPem(config.cert),
    key: readPem(config.key),
    ...(config.passphrase !== undefined ? { passphrase: config.passphrase } : {}),
    ...(config.ca !== undefined ? { ca: readPem(config.ca) } : {}),
  });
}
