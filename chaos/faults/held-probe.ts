/**
 * Connections the router must hold: opened on the probe listener (no one else's) while the
 * cluster has no primary, so `held_connections{listener="probe"}` has one right value, the
 * number of probes still waiting, and `sessions{listener="probe"}` none.
 */
import pg from 'pg';
import { waitFor } from '../../test/cluster/wait-for.js';
import { compareHeld, readGauges } from '../invariants/session-gauges.js';
import { applicationName } from '../load/application-names.js';
import type { AdminClient } from '../router/admin-client.js';

class Probe {
  settled = false;
  outcome = 'waiting';
  readonly client: pg.Client;
  readonly done: Promise<void>;

  constructor(port: number, login: { user: string; password: string }) {
    this.client = new pg.Client({ host: '127.0.0.1', port, ...login, database: 'postgres', application_name: applicationName('probe', 'held'), connectionTimeoutMillis: 120_000 });
    this.client.on('error', () => undefined);
    this.done = this.client.connect().then(
      () => {
        this.settled = true;
        this.outcome = 'connected';
      },
      (error: Error & { code?: string }) => {
        this.settled = true;
        this.outcome = `refused ${error.code ?? ''} ${error.message}`.trim();
      },
    );
  }
}

export interface HeldProbeResult {
  /** The mismatch the gauges kept showing, or undefined when they matched (or could not be judged). */
  mismatch?: string;
  matched: boolean;
  /** How each probe ended once a primary was back. */
  outcomes: string[];
}

export class HeldProbes {
  private readonly probes: Probe[];

  constructor(count: number, port: number, login: { user: string; password: string }) {
    this.probes = Array.from({ length: count }, () => new Probe(port, login));
  }

  private waiting(): number {
    return this.probes.filter((p) => !p.settled).length;
  }

  /**
   * Reads the gauges until they show every probe held. A reading counts only when all probes
   * were still waiting before and after it; if they stop waiting first, nothing is judged.
   */
  async checkGauges(admin: AdminClient, timeoutMs = 10_000): Promise<HeldProbeResult> {
    const expected = this.probes.length;
    let lastMismatch: string | undefined;
    let judged = false;
    try {
      await waitFor(
        `held_connections{listener="probe"} to show ${expected} held probes`,
        async () => {
          if (this.waiting() < expected) return 'probes-moved-on';
          const gauges = readGauges(await admin.metrics());
          if (this.waiting() < expected) return 'probes-moved-on';
          judged = true;
          lastMismatch = compareHeld(gauges, 'probe', expected);
          return lastMismatch === undefined ? 'matched' : undefined;
        },
        { timeoutMs, intervalMs: 200 },
      ).then((how) => {
        if (how === 'probes-moved-on' && lastMismatch === undefined) judged = false;
        if (how === 'matched') lastMismatch = undefined;
      });
    } catch {
      // The gauges never showed the probes: lastMismatch says what they showed.
    }
    return { ...(judged && lastMismatch !== undefined ? { mismatch: lastMismatch } : {}), matched: judged && lastMismatch === undefined, outcomes: [] };
  }

  /** Waits for every probe to be placed or refused (hold_timeout ends the wait), then closes them. */
  async finish(timeoutMs: number): Promise<string[]> {
    await waitFor('every held probe to be placed or refused', () => this.waiting() === 0, { timeoutMs, intervalMs: 200 }).catch(() => undefined);
    await Promise.all(this.probes.map((p) => p.client.end().catch(() => undefined)));
    return this.probes.map((p) => p.outcome);
  }
}
