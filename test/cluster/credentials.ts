/**
 * Roles every test cluster has. Test-only secrets: the clusters live on loopback for the
 * length of a test run. Under the default `hba: 'mixed'` md5user logs in with md5, scramuser
 * with scram-sha-256, the router's auth role with scram-sha-256, rejecteduser never, and every
 * other role (trustuser by name) with `trust` over TCP; under a
 * single method every role uses it (see pg-hba.ts for how each password is stored).
 */
export const credentials = {
  superuser: { user: 'postgres', password: 'postgres-test-secret' },
  replication: { user: 'replicator', password: 'replicator-test-secret' },
  md5: { user: 'md5user', password: 'md5pass' },
  scram: { user: 'scramuser', password: 'scrampass' },
  trust: { user: 'trustuser', password: 'trustpass' },
  /** Not created by the harness: tests that set up the router's auth_query create it (authSetupSql). */
  authRole: { user: 'patroni_router_auth', password: 'auth-test-secret' },
  /** Not created by the harness; under 'mixed' pg_hba rejects it by name. */
  rejected: { user: 'rejecteduser', password: 'rejectedpass' },
} as const;

/** Table every test cluster has, for writes through the router. */
export const probeTable = 'public.router_probe';
