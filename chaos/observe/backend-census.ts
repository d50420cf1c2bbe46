/**
 * The client backends on each member, from pg_stat_activity (over the member's unix socket,
 * as the harness's psql, whose own backend is left out).
 */
import type { PatroniCluster } from '../../test/cluster/index.js';

export interface Backend {
  pid: number;
  applicationName: string;
  user: string;
  /** active, idle, idle in transaction, ... or '' while it is still in its startup. */
  state: string;
  backendStartMs: number;
  query: string;
}

/** undefined for a member that did not answer (down, restarting). */
export type BackendCensus = Record<string, Backend[] | undefined>;

const CENSUS_SQL = `SELECT coalesce(json_agg(json_build_object(
  'pid', pid, 'applicationName', coalesce(application_name, ''), 'user', coalesce(usename, ''),
  'state', coalesce(state, ''), 'backendStartMs', (extract(epoch FROM backend_start) * 1000)::bigint,
  'query', left(coalesce(query, ''), 80))), '[]')
  FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`;

export async function readBackends(cluster: PatroniCluster, member: string): Promise<Backend[] | undefined> {
  try {
    return JSON.parse(await cluster.sql(member, CENSUS_SQL)) as Backend[];
  } catch {
    return undefined;
  }
}

export async function readCensus(cluster: PatroniCluster): Promise<BackendCensus> {
  const rows = await Promise.all(cluster.members.map((m) => readBackends(cluster, m.name)));
  const census: BackendCensus = {};
  cluster.members.forEach((m, i) => (census[m.name] = rows[i]));
  return census;
}
