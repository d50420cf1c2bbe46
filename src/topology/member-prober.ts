import type { Logger } from 'pino';
import type { RestTls } from '../config/types.js';
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
  /** Interval while focused on members that matter right now (see focus()); default 50 ms. */
  focusIntervalMs?: number;
  /** When the members' REST APIs serve HTTPS. */
  tls?: RestTls;
  logger: Logger;
  onObservation: (name: string, observation: MemberObservation) => void;
  now?: () => number;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The shape of `GET /patroni`'s `xlog`: Patroni writes `location` only when its query found
 * postgres out of recovery, `received_location`/`replayed_location` while in recovery.
 */
export function xlogShape(body: unknown): MemberObservation['xlogShape'] {
  if (typeof body !== 'object' || body === null) return undefined;
  const xlog = (body as { xlog?: unknown }).xlog;
  if (typeof xlog !== 'object' || xlog === null) return undefined;
  const x = xlog as Record<string, unknown>;
  if (x.location !== undefined && x.location !== null) return 'primary';
  if (x.replayed_location !== undefined || x.received_location !== undefined) return 'replica';
  return undefined;
}

function observe(body: unknown, at: number, askedAt: number): MemberObservation {
  const observation: MemberObservation = { ...parsePatroniStatus(body, at), askedAt };
  const shape = xlogShape(body);
  if (shape !== undefined) observation.xlogShape = shape;
  return observation;
}

/**
 * Asks every member's own REST API (`GET /patroni`) about once per interval, one request in
 * flight per member, and reports what it saw. The DCS says who should be primary; this says
 * who is, and how far each replica has replayed. During a leader change it can focus on a few
 * members and ask them much more often, for a bounded time.
 */
export class MemberProber {
  private readonly agent;
  private readonly now: () => number;
  private targets = new Map<string, string>();
  private readonly inFlight = new Set<string>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private focusTimer: NodeJS.Timeout | undefined;
  private focused: readonly string[] = [];
  private focusUntil = 0;

  constructor(private readonly opts: MemberProberOptions) {
    this.agent = restAgent(opts.timeoutMs, opts.tls);
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
      .then((body): MemberObservation => observe(body, this.now(), askedAt))
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

  /**
   * Ask these members every focusIntervalMs (still one request in flight each) until `until`
   * (ms on this prober's clock) or unfocus(). A new call replaces the set; changed names are
   * asked at once.
   */
  focus(names: readonly string[], until: number): void {
    if (this.stopping.signal.aborted) return;
    const added = names.filter((n) => !this.focused.includes(n));
    this.focused = [...names];
    this.focusUntil = until;
    for (const name of added) this.probe(name);
    if (this.focusTimer === undefined) {
      this.focusTimer = setInterval(() => this.probeFocused(), this.opts.focusIntervalMs ?? 50);
      this.focusTimer.unref();
    }
  }

  unfocus(): void {
    if (this.focusTimer !== undefined) clearInterval(this.focusTimer);
    this.focusTimer = undefined;
    this.focused = [];
  }

  /** Members currently asked at the focus interval (for tests and the status page). */
  focusedMembers(): readonly string[] {
    return this.focused;
  }

  private probeFocused(): void {
    if (this.now() >= this.focusUntil) {
      this.unfocus();
      return;
    }
    for (const name of this.focused) this.probe(name);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.unfocus();
    await this.agent.close().catch(() => undefined);
  }
}
