import type { Logger } from 'pino';
import type { MemberObservation } from './cluster-state.js';
import { parsePatroniStatus } from './parse-rest-answers.js';
import { getPatroniJson, restAgent } from './rest-client.js';

export interface ProbeTarget {
  name: string;
  apiUrl: string;
}

export interface MemberProberOptions {
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
  onObservation: (name: string, observation: MemberObservation) => void;
  now?: () => number;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Asks every member's own REST API (`GET /patroni`) about once per interval, one request in
 * flight per member, and reports what it saw. The DCS says who should be primary; this says
 * who is, and how far each replica has replayed.
 */
export class MemberProber {
  private readonly agent;
  private readonly now: () => number;
  private targets = new Map<string, string>();
  private readonly inFlight = new Set<string>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: MemberProberOptions) {
    this.agent = restAgent(opts.timeoutMs);
    this.now = opts.now ?? Date.now;
  }

  /** Replaces the members to probe (called on every new snapshot; cheap when unchanged). */
  setTargets(targets: readonly ProbeTarget[]): void {
    this.targets = new Map(targets.map((t) => [t.name, t.apiUrl]));
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.probeAll(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Probe one member now (e.g. its member key just changed role), unless a probe is in flight. */
  probe(name: string): void {
    const apiUrl = this.targets.get(name);
    if (apiUrl === undefined || this.inFlight.has(name) || this.stopping.signal.aborted) return;
    this.inFlight.add(name);
    const askedAt = this.now();
    getPatroniJson(this.agent, apiUrl, '/patroni', this.opts.timeoutMs, this.stopping.signal)
      .then((body): MemberObservation => ({ ...parsePatroniStatus(body, this.now()), askedAt }))
      .catch((err: unknown): MemberObservation => ({ at: this.now(), askedAt, reachable: false, error: errorText(err) }))
      .then((observation) => {
        this.inFlight.delete(name);
        // A member dropped from the targets meanwhile is no longer of interest.
        if (!this.stopping.signal.aborted && this.targets.get(name) === apiUrl) this.opts.onObservation(name, observation);
      })
      .catch((err: unknown) => this.opts.logger.error({ member: name, err: errorText(err) }, 'probe result handler failed'));
  }

  probeAll(): void {
    for (const name of this.targets.keys()) this.probe(name);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.agent.close().catch(() => undefined);
  }
}
