import { announcesDemote, demoteBegun } from '../routing/demote-signal.js';
import type { ClusterState } from '../topology/cluster-state.js';

/**
 * Phases of a switchover or failover, each measured from the moment it was first seen.
 * demote_begun: in a switchover, the old primary's member key said Patroni began the demote
 * (Patroni 3 and 4; routing/demote-signal.ts), the moment sessions on it pause.
 */
export type FailoverPhase = 'demote_begun' | 'old_primary_fenced' | 'new_primary_usable' | 'first_session_routed';

export const FAILOVER_PHASES: readonly FailoverPhase[] = ['demote_begun', 'old_primary_fenced', 'new_primary_usable', 'first_session_routed'];

/** What was seen first: the failover key, the leader key vanishing, or the writable primary going away. */
export type FailoverTrigger = 'failover-key' | 'leader-key-gone' | 'primary-lost';

export interface FailoverEpisode {
  startedAt: number;
  trigger: FailoverTrigger;
  oldPrimary?: string;
  newPrimary?: string;
  /** ms from startedAt to each phase reached so far. */
  phases: Partial<Record<FailoverPhase, number>>;
  /** undefined while the episode is open. */
  outcome?: 'complete' | 'cancelled' | 'expired';
  endedAt?: number;
}

/** What the metrics do with an observation. */
export type TimelineStep =
  { type: 'started'; episode: FailoverEpisode } | { type: 'phase'; phase: FailoverPhase; ms: number; episode: FailoverEpisode } | { type: 'ended'; episode: FailoverEpisode };

export interface FailoverTimelineOptions {
  /** An episode still waiting for its first session after this long is closed as expired. Default 10 min. */
  maxEpisodeMs?: number;
}

/**
 * Tracks one cluster's switchovers and failovers through their phases. Pure: it is told the
 * snapshots and session events with their times and answers with the steps reached, so a
 * recorded fixture replays to exact numbers.
 */
export class FailoverTimeline {
  private open: FailoverEpisode | undefined;
  private last: FailoverEpisode | undefined;
  /** The old primary stopped being writable during the open episode. */
  private primaryLeft = false;
  private readonly maxEpisodeMs: number;

  constructor(options: FailoverTimelineOptions = {}) {
    this.maxEpisodeMs = options.maxEpisodeMs ?? 600_000;
  }

  /** The open episode, else the last one that ended; undefined before the first. */
  episode(): FailoverEpisode | undefined {
    const e = this.open ?? this.last;
    return e === undefined ? undefined : { ...e, phases: { ...e.phases } };
  }

  observeState(previous: ClusterState | undefined, next: ClusterState, now: number): TimelineStep[] {
    const steps: TimelineStep[] = [];
    this.expire(now, steps);
    if (previous === undefined) return steps;

    const trigger = triggerOf(previous, next);
    // A second failover before any session reached the first one's new primary: close the first.
    if (trigger !== undefined && this.open?.phases.new_primary_usable !== undefined) this.end('complete', now, steps);
    if (this.open === undefined) {
      if (trigger === undefined) return steps;
      this.open = { startedAt: now, trigger, phases: {} };
      const oldPrimary = previous.writablePrimary ?? previous.leader;
      if (oldPrimary !== undefined) this.open.oldPrimary = oldPrimary;
      this.primaryLeft = false;
      steps.push({ type: 'started', episode: this.snapshot() });
    }

    const episode = this.open;
    const old = next.members.find((m) => m.name === episode.oldPrimary);
    if (next.switchoverPending && episode.phases.old_primary_fenced === undefined && old !== undefined && announcesDemote(old) && demoteBegun(old)) {
      this.reach('demote_begun', now, steps);
    }
    if (next.writablePrimary !== episode.oldPrimary) {
      this.primaryLeft = true;
      this.reach('old_primary_fenced', now, steps);
    }
    // The old primary writable again (its REST API went quiet while it shut down, say) is
    // not a new primary: the episode goes on until another member takes over.
    const newcomer = next.writablePrimary !== undefined && next.writablePrimary !== episode.oldPrimary;
    if (newcomer && this.primaryLeft && episode.phases.new_primary_usable === undefined) {
      episode.newPrimary = next.writablePrimary;
      this.reach('new_primary_usable', now, steps);
    }
    // No switchover pending and the old primary holds the leader key and writes again (or
    // never stopped): nothing changed hands.
    const oldPrimaryBack = !this.primaryLeft || (next.writablePrimary === episode.oldPrimary && episode.phases.new_primary_usable === undefined);
    if (oldPrimaryBack && !next.switchoverPending && next.leader !== undefined && next.leader === episode.oldPrimary) {
      this.end('cancelled', now, steps);
    }
    return steps;
  }

  /** Sessions on `member` were closed by fencing. */
  sessionsFenced(member: string, now: number): TimelineStep[] {
    const steps: TimelineStep[] = [];
    this.expire(now, steps);
    if (this.open !== undefined && member === this.open.oldPrimary) this.reach('old_primary_fenced', now, steps);
    return steps;
  }

  /** A session got a backend connection on `member`. */
  sessionStarted(member: string, now: number): TimelineStep[] {
    const steps: TimelineStep[] = [];
    this.expire(now, steps);
    const episode = this.open;
    if (episode === undefined || episode.newPrimary === undefined || member !== episode.newPrimary) return steps;
    this.reach('first_session_routed', now, steps);
    this.end('complete', now, steps);
    return steps;
  }

  private reach(phase: FailoverPhase, now: number, steps: TimelineStep[]): void {
    const episode = this.open;
    if (episode === undefined || episode.phases[phase] !== undefined) return;
    const ms = Math.max(0, now - episode.startedAt);
    episode.phases[phase] = ms;
    steps.push({ type: 'phase', phase, ms, episode: this.snapshot() });
  }

  private end(outcome: NonNullable<FailoverEpisode['outcome']>, now: number, steps: TimelineStep[]): void {
    const episode = this.open;
    if (episode === undefined) return;
    episode.outcome = outcome;
    episode.endedAt = now;
    this.last = episode;
    this.open = undefined;
    steps.push({ type: 'ended', episode: { ...episode, phases: { ...episode.phases } } });
  }

  private expire(now: number, steps: TimelineStep[]): void {
    if (this.open !== undefined && now - this.open.startedAt > this.maxEpisodeMs) {
      this.end(this.open.phases.new_primary_usable === undefined ? 'expired' : 'complete', now, steps);
    }
  }

  private snapshot(): FailoverEpisode {
    const e = this.open!;
    return { ...e, phases: { ...e.phases } };
  }
}

function triggerOf(previous: ClusterState, next: ClusterState): FailoverTrigger | undefined {
  if (next.switchoverPending && !previous.switchoverPending) return 'failover-key';
  if (previous.leader !== undefined && next.leader === undefined) return 'leader-key-gone';
  if (previous.writablePrimary !== undefined && next.writablePrimary !== previous.writablePrimary) return 'primary-lost';
  return undefined;
}
