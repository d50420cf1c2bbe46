/**
 * Who was primary, sampled every few hundred milliseconds for the whole run: the leader key
 * in etcd and each member's own role from its REST API. The invariants judge writes and
 * fencing against these samples; a sample says what was true at some instant between its
 * `startedAt` and `at`.
 */
import { readDcsKey, dcsKeyPath } from '../../test/cluster/dcs-keys.js';
import { httpJson } from '../../test/cluster/http-json.js';
import type { PatroniCluster } from '../../test/cluster/index.js';

export type ObservedRole = 'primary' | 'replica' | 'other' | 'unknown';

export interface PrimarySample {
  startedAt: number;
  at: number;
  /** The leader key's value; null when there is none, undefined when etcd did not answer. */
  leaderKey: string | null | undefined;
  roles: Record<string, ObservedRole>;
}

/**
 * A member's role by its own REST API. A primary whose postgres is not running (Patroni says
 * `stopping` while it demotes one that lost the DCS, then `starting`) is no healthy primary:
 * its sessions end with the shutdown, so a router that fenced them did no harm.
 */
export function roleOf(body: unknown): ObservedRole {
  const answer = typeof body === 'object' && body !== null ? (body as { role?: unknown; state?: unknown }) : {};
  const role = answer.role;
  if (role === 'master' || role === 'primary') return answer.state === undefined || answer.state === 'running' ? 'primary' : 'other';
  if (role === 'replica' || role === 'standby_leader') return 'replica';
  return 'other';
}

export class PrimaryTimeline {
  readonly samples: PrimarySample[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: PatroniCluster,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.sampleUntilStopped();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  latest(): PrimarySample | undefined {
    return this.samples[this.samples.length - 1];
  }

  private async sampleUntilStopped(): Promise<void> {
    const keyPath = dcsKeyPath(this.cluster.namespace, this.cluster.scope, 'leader');
    while (this.running) {
      const startedAt = Date.now();
      const [leaderKey, ...roles] = await Promise.all([
        readDcsKey(this.cluster.etcd.endpoint, this.cluster.dcs, keyPath).then(
          (v) => v ?? null,
          () => undefined,
        ),
        ...this.cluster.members.map((m) =>
          httpJson('GET', `${m.restUrl}/patroni`, undefined, { timeoutMs: 1_000, ...this.cluster.restTrust }).then(roleOf, (): ObservedRole => 'unknown'),
        ),
      ]);
      const byName: Record<string, ObservedRole> = {};
      this.cluster.members.forEach((m, i) => (byName[m.name] = roles[i] ?? 'unknown'));
      this.samples.push({ startedAt, at: Date.now(), leaderKey, roles: byName });
      // Pacing the sampler, not waiting for a condition.
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}
