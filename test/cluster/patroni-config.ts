import { stringify } from 'yaml';
import type { ClusterShape } from './cluster-shape.js';
import { credentials } from './credentials.js';
import { pgHbaLines } from './pg-hba.js';

export interface DcsTiming {
  ttl: number;
  loopWait: number;
  retryTimeout: number;
}

export interface PatroniMemberSpec {
  scope: string;
  namespace: string;
  name: string;
  dcs: 'etcd3' | 'etcd';
  etcdHostPort: string;
  restPort: number;
  pgPort: number;
  dataDir: string;
  binDir: string;
  socketDir: string;
  pgpassFile: string;
  /** The self-signed certificate: PostgreSQL's when shape.ssl, the REST API's when shape.restTls. */
  tls: { certFile: string; keyFile: string };
  timing: DcsTiming;
  shape: ClusterShape;
  failsafeMode: boolean;
  tags: Record<string, unknown>;
}

/** Patroni's `loop_wait + 2 * retry_timeout <= ttl` rule, so a bad combination fails clearly. */
export function checkTiming(t: DcsTiming): void {
  if (!(t.ttl > 0 && t.loopWait > 0 && t.retryTimeout > 0) || t.loopWait + 2 * t.retryTimeout > t.ttl) {
    throw new Error(`ttl ${t.ttl}, loop_wait ${t.loopWait}, retry_timeout ${t.retryTimeout}: need loop_wait + 2 * retry_timeout <= ttl`);
  }
}

/** The patroni.yml of one member, as an object (pure; see patroniYaml). */
export function patroniConfig(m: PatroniMemberSpec): Record<string, unknown> {
  const address = (port: number): string => `127.0.0.1:${port}`;
  const { shape, tls } = m;
  return {
    scope: m.scope,
    namespace: m.namespace,
    name: m.name,
    log: { level: 'INFO' },
    restapi: {
      listen: address(m.restPort),
      connect_address: address(m.restPort),
      // With a certificate Patroni serves HTTPS and publishes https:// api_urls.
      ...(shape.restTls ? { certfile: tls.certFile, keyfile: tls.keyFile } : {}),
    },
    // patronictl, and Patroni when it asks other members (3.0.2 verifies them once restapi has
    // a certfile), must trust the self-signed certificate rather than skip verification.
    ...(shape.restTls ? { ctl: { cacert: tls.certFile } } : {}),
    ...(m.dcs === 'etcd3' ? { etcd3: { hosts: m.etcdHostPort } } : { etcd: { host: m.etcdHostPort } }),
    bootstrap: {
      dcs: {
        ttl: m.timing.ttl,
        loop_wait: m.timing.loopWait,
        retry_timeout: m.timing.retryTimeout,
        maximum_lag_on_failover: 1048576,
        synchronous_mode: shape.synchronousMode,
        failsafe_mode: m.failsafeMode,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            max_connections: 200,
            wal_level: 'replica',
            hot_standby: 'on',
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_log_hints: 'on',
            wal_keep_size: '64MB',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
    },
    postgresql: {
      listen: address(m.pgPort),
      connect_address: address(m.pgPort),
      data_dir: m.dataDir,
      bin_dir: m.binDir,
      pgpass: m.pgpassFile,
      use_unix_socket: true,
      // A crashed old leader must always be able to rejoin, whatever pg_rewind thinks.
      remove_data_directory_on_rewind_failure: true,
      remove_data_directory_on_diverged_timelines: true,
      authentication: {
        superuser: { username: credentials.superuser.user, password: credentials.superuser.password },
        replication: { username: credentials.replication.user, password: credentials.replication.password },
      },
      parameters: {
        unix_socket_directories: m.socketDir,
        // Without ssl Patroni sets nothing, and PostgreSQL's default is off.
        ...(shape.ssl ? { ssl: 'on', ssl_cert_file: tls.certFile, ssl_key_file: tls.keyFile } : {}),
        // A legacy md5 cluster: the roles Patroni creates get md5 hashes (see pg-hba.ts).
        ...(shape.hba === 'md5' ? { password_encryption: 'md5' } : {}),
        // Many small clusters share a small machine.
        shared_buffers: '32MB',
      },
      pg_hba: pgHbaLines(shape.hba),
    },
    tags: m.tags,
  };
}

export function patroniYaml(m: PatroniMemberSpec): string {
  return stringify(patroniConfig(m));
}
