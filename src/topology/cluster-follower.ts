import type { Logger } from 'pino';
import type { ClusterSource } from '../config/types.js';
import type { ClusterFeed } from './cluster-feed.js';
import type { ClusterState, MemberObservation, StateListener } from './cluster-state.js';
import { buildState } from './build-state.js';
import { Etcd2Source } from './etcd2-source.js';
import { Etcd3Source } from './etcd3-source.js';
import { MemberProber } from './member-prober.js';
import { parseClusterKeys, type ParsedKeys } from './parse-cluster-keys.js';
import { RestClusterSource } from './rest-cluster-source.js';
import { normaliseNamespace, scopePrefix } from './scope-prefix.js';
import type { SourceStatus, TopologySink, TopologySource, TopologyUpdate } from './topology-source.js';

/** How the follower's link to the DCS is doing, for metrics and the status page. */
export interface FollowerStatus {
  source: 'etcd3' | 'etcd' | 'rest';
  watch: SourceStatus;
  /** ms of the last successful read or event; undefined before the first. */
  lastContact?: number;
  lastError?: string;
  /** How many times the watch was lost since start. */
  reconnects: number;
  /** Members the prober asks every few ms while a leader change is underway; empty otherwise. */
  probeFocus: readonly string[];
}

export interface ClusterFollowerDeps {
  now?: () => number;
  /** Replace the DCS source (tests); default chosen from the config. */
  source?: TopologySource;
  /** How often the DCS-loss policy is re-evaluated while nothing arrives. */
  policyTickMs?: number;
  /** How often the prober asks the leader-to-be during a leader change (default 50 ms). */
  focusProbeIntervalMs?: number;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function sourceFor(config: ClusterSource, logger: Logger): { source: TopologySource; kind: FollowerStatus['source'] } {
  const prefix = scopePrefix(config.namespace, config.scope);
  const { topology } = config;
  if (config.etcd !== undefined) {
    const common = { access: config.etcd, prefix, resyncIntervalMs: topology.resyncIntervalMs, logger };
    return config.etcd.api === 'etcd3' ? { source: new Etcd3Source(common), kind: 'etcd3' } : { source: new Etcd2Source(common), kind: 'etcd' };
  }
  if (config.restUrls !== undefined && config.restUrls.length > 0) {
    const intervalMs = topology.probeIntervalMs > 0 ? topology.probeIntervalMs : 1000;
    return {
      source: new RestClusterSource({
        urls: config.restUrls,
        intervalMs,
        timeoutMs: topology.probeTimeoutMs,
        ...(topology.restTls !== undefined ? { tls: topology.restTls } : {}),
        logger,
      }),
      kind: 'rest',
    };
  }
  throw new Error(`cluster ${config.scope}: neither etcd nor REST URLs configured`);
}

/**
 * Follows one Patroni cluster: a DCS source (etcd v3 watch, etcd v2 long-poll or REST polling)
 * plus the REST prober, folded into immutable ClusterState snapshots. A DCS event is turned
 * into a published snapshot synchronously, in the same tick it arrives (failover hot path).
 */
export class ClusterFollower implements ClusterFeed {
  readonly scope: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly source: TopologySource;
  private readonly prober: MemberProber | undefined;
  private readonly listeners = new Set<StateListener>();
  private readonly keys = new Map<string, string>();
  private readonly memberKeyChangedAt = new Map<string, number>();
  private readonly observations = new Map<string, MemberObservation>();
  private leaderKeyChangedAt: number | undefined;
  /** While set, the prober asks the members that decide the next primary every few ms (until then). */
  private focusUntil: number | undefined;
  private parsed: ParsedKeys | undefined;
  private state: ClusterState | undefined;
  private readonly followerStatus: FollowerStatus;
  private policyTimer: NodeJS.Timeout | undefined;
  private readonly policyTickMs: number;
  private started = false;

  constructor(
    private readonly config: ClusterSource,
    logger: Logger,
    deps: ClusterFollowerDeps = {},
  ) {
    this.scope = config.scope;
    this.logger = logger.child({ cluster: config.scope });
    this.now = deps.now ?? Date.now;
    const injectedKind: FollowerStatus['source'] = config.etcd?.api ?? 'rest';
    const chosen = deps.source === undefined ? sourceFor(config, this.logger) : { source: deps.source, kind: injectedKind };
    this.source = chosen.source;
    this.followerStatus = { source: chosen.kind, watch: 'connecting', reconnects: 0, probeFocus: [] };
    if (config.topology.probeIntervalMs > 0) {
      this.prober = new MemberProber({
        intervalMs: config.topology.probeIntervalMs,
        timeoutMs: config.topology.probeTimeoutMs,
        focusIntervalMs: deps.focusProbeIntervalMs ?? 50,
        ...(config.topology.restTls !== undefined ? { tls: config.topology.restTls } : {}),
        logger: this.logger,
        now: this.now,
        onObservation: (name, obs) => this.onObservation(name, obs),
      });
    }
    this.policyTickMs = deps.policyTickMs ?? 1000;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const sink: TopologySink = {
      update: (u) => this.onUpdate(u),
      status: (s, error) => this.onStatus(s, error),
    };
    this.source.start(sink);
    this.prober?.start();
    // Time alone can end a stale primary's grace (DCS-loss policy): re-evaluate periodically.
    this.policyTimer = setInterval(() => this.rebuild(), this.policyTickMs);
    this.policyTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.policyTimer !== undefined) clearInterval(this.policyTimer);
    await Promise.all([this.source.stop(), this.prober?.stop()]);
  }

  current(): ClusterState | undefined {
    return this.state;
  }

  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A session's login contradicted the state about `member`: its REST API is asked now (one request in flight at most). */
  doubt(member: string, why: string): void {
    if (this.prober === undefined) return;
    this.logger.debug({ member, why }, 'a session saw the state contradicted: asking the member now');
    this.prober.probe(member);
  }

  status(): Readonly<FollowerStatus> {
    return { ...this.followerStatus, probeFocus: this.prober?.focusedMembers() ?? [] };
  }

  private onUpdate(update: TopologyUpdate): void {
    const now = this.now();
    const priorParsed = this.parsed;
    this.followerStatus.lastContact = now;
    const changedMembers: string[] = [];
    const noteMember = (key: string): void => {
      const m = /^members\/([^/]+)$/.exec(key);
      if (m !== null) {
        this.memberKeyChangedAt.set(m[1]!, now);
        changedMembers.push(m[1]!);
      }
    };
    if (update.kind === 'snapshot') {
      for (const key of this.keys.keys()) if (!update.keys.has(key)) noteMember(key);
      for (const [key, value] of update.keys) if (this.keys.get(key) !== value) noteMember(key);
      this.keys.clear();
      for (const [key, value] of update.keys) this.keys.set(key, value);
      this.parsed = parseClusterKeys(this.keys);
    } else if (update.kind === 'events') {
      let changed = false;
      for (const event of update.events) {
        const before = this.keys.get(event.key);
        if (event.type === 'put') {
          if (before === event.value) continue;
          this.keys.set(event.key, event.value);
        } else {
          if (before === undefined) continue;
          this.keys.delete(event.key);
        }
        changed = true;
        noteMember(event.key);
      }
      if (changed || this.parsed === undefined) this.parsed = parseClusterKeys(this.keys);
    } else {
      const before = new Map((this.parsed?.members ?? []).map((m) => [m.name, JSON.stringify(m)]));
      for (const m of update.parsed.members) if (before.get(m.name) !== JSON.stringify(m)) this.memberKeyChangedAt.set(m.name, now);
      this.parsed = update.parsed;
    }
    const leaderChanged = priorParsed === undefined || priorParsed.leader !== this.parsed.leader;
    if (leaderChanged) this.leaderKeyChangedAt = now;
    this.rebuild();
    // A member whose key just changed is asked at once, so REST catches up with the DCS.
    for (const name of changedMembers) this.prober?.probe(name);
    const handoverRequested = priorParsed !== undefined && priorParsed.failover === undefined && this.parsed.failover !== undefined;
    this.steerProbes(priorParsed !== undefined && (leaderChanged || handoverRequested));
  }

  /**
   * From a leader change (or a switchover request) until a writable primary is known again,
   * ask the leader-key member (every member while there is no leader) every few ms: its REST
   * API shows the promotion about one Patroni loop before its member key does. Bounded by
   * `ttl` seconds from the last such event; then back to the normal interval.
   */
  private steerProbes(leadershipMoved: boolean): void {
    const state = this.state;
    if (this.prober === undefined || state === undefined) return;
    const now = this.now();
    if (leadershipMoved) this.focusUntil = now + state.config.ttl * 1000;
    if (this.focusUntil === undefined) return;
    const settled = state.writablePrimary !== undefined && !state.switchoverPending;
    if (settled || now >= this.focusUntil) {
      this.focusUntil = undefined;
      this.prober.unfocus();
      return;
    }
    const names = state.leader !== undefined ? [state.leader] : state.members.map((m) => m.name);
    this.prober.focus(names, this.focusUntil);
  }

  private onStatus(status: SourceStatus, error?: string): void {
    const previous = this.followerStatus.watch;
    this.followerStatus.watch = status;
    if (error !== undefined) this.followerStatus.lastError = error;
    if (status === 'reconnecting' && previous === 'connected') this.followerStatus.reconnects++;
    if (status !== previous) this.logger.info({ status, error }, 'DCS link status');
    this.rebuild();
  }

  private onObservation(name: string, observation: MemberObservation): void {
    this.observations.set(name, observation);
    this.rebuild();
    this.steerProbes(false);
  }

  /** Recompute the snapshot from everything known; publish it when something changed. */
  private rebuild(): void {
    if (this.parsed === undefined) return; // nothing read yet: current() stays undefined
    const now = this.now();
    const { topology } = this.config;
    const previous = this.state;
    let built;
    try {
      built = buildState(
        {
          scope: this.config.scope,
          namespace: normaliseNamespace(this.config.namespace),
          parsed: this.parsed,
          observations: this.observations,
          memberKeyChangedAt: this.memberKeyChangedAt,
          leaderKeyChangedAt: this.leaderKeyChangedAt,
          lastDcsContact: this.followerStatus.lastContact ?? now,
          stale: this.followerStatus.watch !== 'connected',
          now,
          observationMaxAgeMs: Math.max(3 * topology.probeIntervalMs, 2 * topology.probeTimeoutMs, 1000),
          dcsLossWrites: topology.dcsLossWrites,
        },
        previous,
      );
    } catch (err) {
      // buildState is pure and should not throw; if it does, keep the last picture.
      this.logger.error({ err: errorText(err) }, 'could not build cluster state');
      return;
    }
    this.state = built.state;
    if (built.changes.length === 0) return;
    const known = new Set(previous?.problems ?? []);
    for (const problem of built.state.problems) if (!known.has(problem)) this.logger.warn({ problem }, 'bad value in Patroni keys');
    this.logger.info({ generation: built.state.generation, changes: built.changes }, 'cluster state changed');
    this.pruneObservations(built.state);
    this.prober?.setTargets(built.state.members.flatMap((m) => (m.apiUrl === undefined ? [] : [{ name: m.name, apiUrl: m.apiUrl }])));
    const change = { previous, next: built.state, changes: built.changes };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ err: errorText(err) }, 'cluster state listener failed');
      }
    }
  }

  private pruneObservations(state: ClusterState): void {
    const names = new Set(state.members.map((m) => m.name));
    for (const name of this.observations.keys()) if (!names.has(name)) this.observations.delete(name);
    for (const name of this.memberKeyChangedAt.keys()) if (!names.has(name)) this.memberKeyChangedAt.delete(name);
  }
}
