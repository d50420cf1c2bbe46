import { credentials } from './credentials.js';
import type { HbaMethod } from './cluster-shape.js';

/**
 * pg_hba of every member. Unix-socket lines are always trust: the harness runs psql as the
 * postgres OS user over the socket, and Patroni connects to its own postgres the same way.
 */
export function pgHbaLines(method: HbaMethod): string[] {
  const local = ['local all all trust', 'local replication all trust'];
  const { replication, md5, scram, authRole, rejected } = credentials;
  if (method === 'mixed') {
    return [
      ...local,
      `host replication ${replication.user} 127.0.0.1/32 scram-sha-256`,
      `host all ${md5.user} 127.0.0.1/32 md5`,
      `host all ${scram.user} 127.0.0.1/32 scram-sha-256`,
      // The router's auth_query role logs in with its password, as patroni-router auth-setup suggests.
      `host all ${authRole.user} 127.0.0.1/32 scram-sha-256`,
      `host all ${rejected.user} 127.0.0.1/32 reject`,
      'host all all 127.0.0.1/32 trust',
    ];
  }
  return [...local, `host replication ${replication.user} 127.0.0.1/32 ${method}`, `host all all 127.0.0.1/32 ${method}`];
}

/**
 * How the password of each role is stored (PostgreSQL's password_encryption when it is set),
 * so that every role can log in under every method: a scram-sha-256 line cannot check an md5
 * hash, so under 'scram-sha-256' every password is SCRAM, md5user's too. Under 'md5' the
 * cluster is set up like a legacy one (password_encryption = md5: the superuser, replicator,
 * md5user and trustuser hold md5 hashes) except scramuser, whose SCRAM verifier makes
 * PostgreSQL answer an md5 line with SCRAM, as it does on real clusters half-way through
 * moving to SCRAM. Otherwise md5user md5 and everyone else SCRAM (PostgreSQL 15's default).
 */
export function passwordEncryption(method: HbaMethod, role: 'default' | 'md5user' | 'scramuser'): 'md5' | 'scram-sha-256' {
  if (role === 'scramuser' || method === 'scram-sha-256') return 'scram-sha-256';
  if (role === 'md5user' || method === 'md5') return 'md5';
  return 'scram-sha-256';
}
