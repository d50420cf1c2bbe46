import type { Logger } from 'pino';
import type { ClusterState, Member } from '../../topology/cluster-state.js';
import type { BackendLink } from '../backend/backend-link.js';
import type { TimerSet } from '../clock.js';
import { moveTarget, primaryGoingDown, switchoverAway } from './move-target.js';

/** What a session that can move lends its mover. */
export interface MoverHost {
  /** The cluster state now. */
  state(): ClusterState | undefined;
  now(): number;
  timers: TimerSet;
  /** How long a session may wait for a new primary (the listener's move_timeout). */
  timeoutMs(): number;
  /** An authenticated link to `member` as the session's user, startup parameters replayed. */
  openLink(member: Member): Promise<BackendLink>;
  /** The relay's side of it: the session's units wait while paused, and go on on the new link. */
  relay: {
    pause(): void;
    resume(): void;
    attachPrimary(link: BackendLink, failed: (why: string) => void): void;
  };
  /** The new link is the session's primary link now. */
  moved(link: BackendLink, from: string, waitedMs: number): void;
  /** No primary within the bound, or the new one refused the session's state: the session ends. */
  gaveUp(from: string, why: 'timeout' | 'restore-failed', detail: string, waitedMs: number): void;
  log: Logger;
}

/** After a failed attempt to reach the new primary (refused, not up yet), the next one waits this long at least. */
const RETRY_MS = 250;

/**
 * Takes one session from a primary that went away to the next one: it waits (at most the
 * listener's move_timeout) until the cluster names a writable primary, logs in there as the
 * session's user, has the relay replay the session's state and go on. Also pauses the
 * session's new work while a planned switchover away from its primary is under way, so that
 * nothing is cut mid-statement by Patroni's shutdown.
 */
export class SessionMover {
  private waiting: { from: string; since: number; deadline: NodeJS.Timeout; retry?: { timer: NodeJS.Timeout; failedOn: string } } | undefined;
  private attempting = false;
  private paused: { since: number; bound: NodeJS.Timeout } | undefined;
  /**
   * A link opened ahead, while the session waits, to the member about to be the primary (the
   * one the leader key or the switchover names) as it promotes: a standby takes logins, and a
   * session on it can write once it is out of recovery. Used only when the cluster names it
   * the writable primary, after the same recovery check as any link; closed otherwise.
   */
  private ahead: { member: string; link: Promise<BackendLink> } | undefined;

  constructor(private readonly host: MoverHost) {}

  get moving(): boolean {
    return this.waiting !== undefined;
  }

  /** The primary link is gone (left between transactions, or closed by the member): find the next. */
  begin(from: string, why: string): void {
    if (this.waiting !== undefined) return;
    this.endPause();
    const since = this.host.now();
    const deadline = this.host.timers.after(this.host.timeoutMs(), () => this.giveUp('timeout', `no writable primary within ${Math.round(this.host.timeoutMs() / 100) / 10} s`));
    this.waiting = { from, since, deadline };
    this.host.log.info({ from, reason: why }, 'session moving to the next primary');
    this.host.relay.pause();
    this.attempt();
  }

  /** A new cluster state: a waiting session tries the primary it names; a session on the primary pauses or resumes for a switchover. */
  stateChanged(member: string | undefined): void {
    if (this.waiting !== undefined) return this.attempt();
    const goingDown = primaryGoingDown(this.host.state(), member, this.host.now());
    if (goingDown !== undefined) {
      if (this.paused !== undefined) return;
      // Bounded: a switchover or restart that never completes must not hold the session's work forever.
      const bound = this.host.timers.after(this.host.timeoutMs(), () => this.endPause());
      this.paused = { since: this.host.now(), bound };
      this.host.relay.pause();
      this.host.log.info({ member, reason: goingDown }, `${goingDown} under way: new work waits at the next boundary`);
    } else this.endPause();
  }

  stop(): void {
    if (this.waiting !== undefined) {
      this.host.timers.cancel(this.waiting.deadline);
      this.host.timers.cancel(this.waiting.retry?.timer);
    }
    this.waiting = undefined;
    if (this.paused !== undefined) this.host.timers.cancel(this.paused.bound);
    this.paused = undefined;
    this.dropAhead();
  }

  private endPause(): void {
    if (this.paused === undefined) return;
    this.host.timers.cancel(this.paused.bound);
    this.paused = undefined;
    if (this.waiting === undefined) this.host.relay.resume();
  }

  private attempt(): void {
    const waiting = this.waiting;
    if (waiting === undefined || this.attempting) return;
    const state = this.host.state();
    const named = moveTarget(state);
    // The member the session left while a switchover away from it runs is shutting down, not the next primary.
    const target = named !== undefined && !(named.name === waiting.from && switchoverAway(state, named.name, this.host.now())) ? named : undefined;
    if (target === undefined) return this.openAhead(state, waiting.from);
    if (waiting.retry !== undefined) {
      // The pause after a failed attempt spares that member; another one named meanwhile is tried at once.
      if (target.name === waiting.retry.failedOn) return;
      this.host.timers.cancel(waiting.retry.timer);
      waiting.retry = undefined;
    }
    this.attempting = true;
    this.linkTo(target)
      .then(async (link) => {
        // The cluster view may lag a demotion: a member back up as a replica is not the next primary, whatever it says.
        const notWritable = await link.recoveryReason();
        if (notWritable !== undefined) {
          link.close();
          throw new Error(`${target.name} ${notWritable}`);
        }
        this.attempting = false;
        if (this.waiting !== waiting) return link.close();
        this.host.timers.cancel(waiting.deadline);
        this.waiting = undefined;
        const waitedMs = this.host.now() - waiting.since;
        this.host.relay.attachPrimary(link, (why) => this.host.gaveUp(waiting.from, 'restore-failed', why, this.host.now() - waiting.since));
        this.host.relay.resume();
        this.host.moved(link, waiting.from, waitedMs);
      })
      .catch((error: unknown) => {
        this.attempting = false;
        if (this.waiting !== waiting) return;
        this.host.log.debug({ member: target.name, err: error instanceof Error ? error.message : String(error) }, 'the next primary did not take the session yet');
        const timer = this.host.timers.after(RETRY_MS, () => {
          waiting.retry = undefined;
          this.attempt();
        });
        waiting.retry = { timer, failedOn: target.name };
      });
  }

  /** Opens a link ahead to the member the cluster is handing the leadership to (not the one the session left), once it names one with an address. */
  private openAhead(state: ClusterState | undefined, from: string): void {
    if (state === undefined) return;
    const name = state.leader !== undefined && state.leader !== from ? state.leader : state.failover?.candidate;
    if (name === undefined || name === from || this.ahead?.member === name) return;
    const member = state.members.find((m) => m.name === name);
    if (member?.host === undefined || member.port === undefined) return;
    this.dropAhead();
    const link = this.host.openLink(member);
    this.ahead = { member: name, link };
    // A failed one stays, so that it is tried once per member and wait, not on every new state.
    link.catch((error: unknown) => {
      this.host.log.debug({ member: name, err: error instanceof Error ? error.message : String(error) }, 'no link ahead to the next primary');
    });
  }

  /** The link opened ahead when it is to `target` and opened; a new one otherwise. */
  private linkTo(target: Member): Promise<BackendLink> {
    const ahead = this.ahead;
    if (ahead?.member !== target.name) {
      this.dropAhead();
      return this.host.openLink(target);
    }
    this.ahead = undefined;
    return ahead.link.catch(() => this.host.openLink(target));
  }

  private dropAhead(): void {
    const ahead = this.ahead;
    this.ahead = undefined;
    void ahead?.link.then(
      (l) => l.close(),
      () => undefined,
    );
  }

  private giveUp(why: 'timeout', detail: string): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.stop();
    this.host.gaveUp(waiting.from, why, detail, this.host.now() - waiting.since);
  }
}
