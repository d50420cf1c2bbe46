import type { PatroniMajor } from './patroni-install.js';

/**
 * How members authenticate TCP clients. 'mixed' is the harness's original set (md5user md5,
 * scramuser scram-sha-256, everyone else trust); a single method applies to every `host` line.
 */
export type HbaMethod = 'mixed' | 'trust' | 'md5' | 'scram-sha-256';

/** Patroni's synchronous_mode: false, true, or 'quorum' (Patroni 4's quorum commit). */
export type SynchronousMode = boolean | 'quorum';

/** The ways real clusters differ that the router has to cope with. */
export interface ClusterShape {
  /** '3': Debian 12's patroni 3.0.2; '4': Debian 13's 4.0.7 (unpacked by install-deps.sh). */
  patroni: PatroniMajor;
  /** Members serve TLS (ssl = on, the self-signed cert); off is Patroni's own default. */
  ssl: boolean;
  hba: HbaMethod;
  /** Patroni's REST API over HTTPS with the self-signed cert (CN/SAN 127.0.0.1). */
  restTls: boolean;
  synchronousMode: SynchronousMode;
}

const majors: readonly PatroniMajor[] = ['3', '4'];
const hbaMethods: readonly HbaMethod[] = ['mixed', 'trust', 'md5', 'scram-sha-256'];

/**
 * The shape asked for, with today's defaults for what is left out (patroni 3, ssl on, mixed
 * pg_hba, plain-HTTP REST API, no synchronous mode). Checked at run time too, since the bench
 * and the demo call the harness from plain JavaScript.
 */
export function resolveShape(opts: Partial<ClusterShape>): ClusterShape {
  const shape: ClusterShape = {
    patroni: opts.patroni ?? '3',
    ssl: opts.ssl ?? true,
    hba: opts.hba ?? 'mixed',
    restTls: opts.restTls ?? false,
    synchronousMode: opts.synchronousMode ?? false,
  };
  if (!majors.includes(shape.patroni)) throw new Error(`patroni must be '3' or '4', got ${JSON.stringify(shape.patroni)}`);
  if (!hbaMethods.includes(shape.hba)) throw new Error(`hba must be one of ${hbaMethods.join(', ')}, got ${JSON.stringify(shape.hba)}`);
  if (typeof shape.ssl !== 'boolean' || typeof shape.restTls !== 'boolean') throw new Error('ssl and restTls must be booleans');
  if (shape.synchronousMode === 'quorum' && shape.patroni !== '4') {
    throw new Error(`synchronousMode 'quorum' needs patroni '4': Patroni ${shape.patroni === '3' ? '3.0.2' : shape.patroni} has no quorum commit`);
  }
  if (typeof shape.synchronousMode !== 'boolean' && shape.synchronousMode !== 'quorum') {
    throw new Error(`synchronousMode must be true, false or 'quorum', got ${JSON.stringify(shape.synchronousMode)}`);
  }
  return shape;
}
