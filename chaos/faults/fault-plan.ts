/**
 * Which fault comes next, and with what parameters, from the run's seed alone. Pure: the
 * sequence of plans is the same for the same seed whatever the cluster does; choices that
 * depend on the cluster (which replica) are drawn as indices the injector applies to what it
 * finds then.
 */
import type { SeededRandom } from '../seeded-random.js';

export const FAULT_KINDS = ['switchover', 'leader-crash', 'etcd-restart', 'replay-pause', 'full-primary', 'slow-clients', 'garbage-clients'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

interface PlanBase {
  /** 1, 2, ... in the order of the run. */
  index: number;
  /** Steady load before the fault, so faults do not pile onto each other's recovery. */
  gapMs: number;
}

export type FaultPlan = PlanBase &
  (
    | { kind: 'switchover'; /** Into the replicas sorted by name, modulo their count. */ candidateIndex: number }
    | { kind: 'leader-crash'; /** Connections opened on the probe listener while no primary is known. */ heldProbes: number }
    | { kind: 'etcd-restart'; how: 'stop' | 'kill'; downMs: number }
    | { kind: 'replay-pause'; replicaIndex: number; pauseMs: number }
    | { kind: 'full-primary' }
    | { kind: 'slow-clients'; clients: number }
    | { kind: 'garbage-clients'; clients: number }
  );

/**
 * Faults come in shuffled rounds of every kind, so a run of a few rounds meets each kind
 * as often as the others, in an order only the seed decides.
 */
export class FaultPlanner {
  private bag: FaultKind[] = [];
  private count = 0;

  constructor(
    private readonly random: SeededRandom,
    private readonly kinds: readonly FaultKind[] = FAULT_KINDS,
  ) {
    if (kinds.length === 0) throw new Error('FaultPlanner needs at least one fault kind');
  }

  next(): FaultPlan {
    if (this.bag.length === 0) this.bag = this.random.shuffle(this.kinds);
    const kind = this.bag.shift() as FaultKind;
    const base: PlanBase = { index: ++this.count, gapMs: this.random.int(5, 20) * 1000 };
    switch (kind) {
      case 'switchover':
        return { ...base, kind, candidateIndex: this.random.int(0, 1) };
      case 'leader-crash':
        return { ...base, kind, heldProbes: this.random.int(2, 6) };
      case 'etcd-restart':
        // Well under Patroni's retry_timeout + ttl: an outage the primary must ride out.
        return { ...base, kind, how: this.random.pick(['stop', 'kill'] as const), downMs: this.random.int(1, 8) * 1000 };
      case 'replay-pause':
        return { ...base, kind, replicaIndex: this.random.int(0, 1), pauseMs: this.random.int(5, 35) * 1000 };
      case 'full-primary':
        return { ...base, kind };
      case 'slow-clients':
        return { ...base, kind, clients: this.random.int(20, 100) };
      case 'garbage-clients':
        return { ...base, kind, clients: this.random.int(10, 60) };
    }
  }
}

/** One line for logs and the report, e.g. "etcd-restart (kill, down 3 s)". */
export function describePlan(plan: FaultPlan): string {
  switch (plan.kind) {
    case 'switchover':
      return `switchover (candidate #${plan.candidateIndex})`;
    case 'leader-crash':
      return `leader-crash (${plan.heldProbes} held probes)`;
    case 'etcd-restart':
      return `etcd-restart (${plan.how}, down ${plan.downMs / 1000} s)`;
    case 'replay-pause':
      return `replay-pause (replica #${plan.replicaIndex}, ${plan.pauseMs / 1000} s)`;
    case 'full-primary':
      return 'full-primary';
    case 'slow-clients':
      return `slow-clients (${plan.clients})`;
    case 'garbage-clients':
      return `garbage-clients (${plan.clients})`;
  }
}
