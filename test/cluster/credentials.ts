/**
 * Roles every test cluster has. Test-only secrets: the clusters live on loopback for the
 * length of a test run. pg_hba makes md5user use md5, scramuser scram-sha-256 and every other
 * role `trust` over TCP.
 */
export const credentials = {
  superuser: { user: 'postgres', password: 'postgres-test-secret' },
  replication: { user: 'replicator', password: 'replicator-test-secret' },
  md5: { user: 'md5user', password: 'md5pass' },
  scram: { user: 'scramuser', password: 'scrampass' },
} as const;

/** Table every test cluster has, for writes through the router. */
export const probeTable = 'public.router_probe';
