/**
 * What one compatibility cell must show, from its axes alone.
 *
 * Connecting cells: the whole scenario passes on the listener's member (the primary out of
 * recovery, or the replica in recovery), and the member sees TLS exactly when it has ssl on.
 * That holds for both router modes because both routers keep `tls.backend.mode: prefer` (the
 * terminating one says so, the pass-through one has the default):
 * - pass-through, client asks for TLS: its SSLRequest goes to the member; with ssl on the TLS
 *   is the client's own, end to end; with ssl off the member answers N, a `prefer` client goes
 *   on in plain text and the router reads that startup;
 * - pass-through, sslmode=disable: the router reads the plain startup and opens its own link
 *   with backend mode prefer, TLS iff the member has ssl on;
 * - terminate: the client's TLS ends at the router; the member sees the router's link, TLS iff
 *   it has ssl on.
 *
 * Refused cells: a client that insists on TLS (sslmode=require, and node-postgres with any
 * `ssl`, which has no plain fallback for prefer: drivers README) through a pass-through router
 * to members with ssl off gets the member's N and refuses by itself; every driver's message
 * says "server does not support SSL" (libpq: "server does not support SSL, but SSL was
 * required", pgjdbc: "The server does not support SSL.", node-postgres: "The server does not
 * support SSL connections").
 */
import type { CompatCell } from './compat-axes.js';

export type Expectation = { outcome: 'works'; ssl: boolean; inRecovery: boolean; writable: boolean } | { outcome: 'refused'; error: RegExp; why: string };

/** The client will not go on without TLS. */
export function insistsOnTls(cell: Pick<CompatCell, 'driver' | 'sslmode'>): boolean {
  return cell.sslmode === 'require' || (cell.driver === 'node-postgres' && cell.sslmode === 'prefer');
}

export function expectedOutcome(cell: CompatCell): Expectation {
  if (cell.routerTls === 'passthrough' && cell.memberSsl === 'off' && insistsOnTls(cell)) {
    return {
      outcome: 'refused',
      error: /server does not support SSL/i,
      why: `${cell.driver} with sslmode=${cell.sslmode} insists on TLS; the pass-through router relays the member's N (ssl off)`,
    };
  }
  const writable = cell.listener === 'primary';
  return { outcome: 'works', ssl: cell.memberSsl === 'on', inRecovery: !writable, writable };
}
