/** The invariants a chaos run checks, and the violations it found, each with its time and detail. */

export const INVARIANTS = {
  'write-on-non-primary': 'no write acknowledged by a member the leader key did not name, no 25006 seen by a write client',
  'healthy-primary-session-closed': 'no session on a write listener fenced naming a member that was, and stayed, the primary',
  'router-exited': 'the router process never exits',
  'resources-not-back': 'RSS and open fds back near the baseline once the load stops, no client socket left open',
  'leaked-backends': "after the clients stop, only Patroni's and the router's own backends remain on the members",
  'untrue-gauges': 'patroni_router_sessions and held_connections equal what the router really holds',
  'acknowledged-writes': "every acknowledged write is in the table exactly once, but a crash's asynchronous tail",
  'full-primary-answer': "a full primary is answered promptly with 53300 in the member's words",
  'hostile-client-kept': 'a slow or garbage client is let go within startup_timeout',
  'no-recovery': 'writes through every write listener resume once the cluster is healthy again',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  invariant: InvariantName;
  at: number;
  detail: string;
}

export class ViolationLog {
  readonly list: Violation[] = [];

  constructor(private readonly onReport: (v: Violation) => void = () => undefined) {}

  report(invariant: InvariantName, at: number, detail: string): void {
    const v = { invariant, at, detail };
    this.list.push(v);
    this.onReport(v);
  }

  add(violations: readonly Violation[]): void {
    for (const v of violations) this.report(v.invariant, v.at, v.detail);
  }
}
