/**
 * The router compatibility matrix of issue 9 ("works on the clusters people actually run"):
 * the cluster shapes a Patroni deployment comes in, times the ways a client can reach it
 * through the router. The first four axes are the cluster's (one real cluster each), the rest
 * the client's (one scenario run each).
 */
import type { DriverName, SslMode } from '../drivers/scenario-types.js';
import type { Cell } from './pairwise.js';

export const compatAxes = {
  patroni: ['3', '4'],
  memberSsl: ['on', 'off'],
  restApi: ['http', 'https'],
  hba: ['trust', 'md5', 'scram-sha-256'],
  routerTls: ['passthrough', 'terminate'],
  sslmode: ['disable', 'prefer', 'require'],
  driver: ['psql', 'pgbench', 'node-postgres', 'psycopg2', 'psycopg3', 'pgjdbc'],
  listener: ['primary', 'replica'],
} as const satisfies Record<string, readonly string[]> & { sslmode: readonly SslMode[]; driver: readonly DriverName[] };

export type CompatAxes = typeof compatAxes;
export type CompatCell = Cell<CompatAxes>;

/** The axes one real cluster fixes. */
export const clusterAxes = ['patroni', 'memberSsl', 'restApi', 'hba'] as const;
export type ClusterAxis = (typeof clusterAxes)[number];
export type ClusterTuple = Pick<CompatCell, ClusterAxis>;
export type RouterTls = CompatCell['routerTls'];

/**
 * Every cell of the product is a configuration someone runs, so none is left out: the ones
 * that cannot connect (a client requiring TLS through a pass-through router to members without
 * ssl) are cells whose expected outcome is the client's own refusal (compat-expectation.ts),
 * which is worth checking too (the router must pass the member's N on, not hang or invent an
 * answer). Kept as a function so that a combination that turns out to be meaningless has one
 * place to go, with its reason.
 */
export function meaningful(_cell: CompatCell): boolean {
  return true;
}

/** A short name for a cell, stable across runs (its values in axis order). */
export function cellName(cell: CompatCell): string {
  return `${cell.driver} -> ${cell.listener} (${cell.routerTls}, sslmode=${cell.sslmode})`;
}

export function clusterName(t: ClusterTuple): string {
  return `patroni ${t.patroni}, member ssl ${t.memberSsl}, REST ${t.restApi}, hba ${t.hba}`;
}
