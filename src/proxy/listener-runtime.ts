import type net from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import type { BalanceMemory, RouteRequest } from '../routing/route-request.js';
import { createBalanceMemory } from '../routing/balance-order.js';
import { LagHysteresis } from '../routing/lag-hysteresis.js';
import { SplitStats } from './split/split-stats.js';
import { StatementClassifier } from '../sql/classifier-cache.js';
import { emptyFunctionCatalog } from '../sql/function-catalog.js';
import type { Clock } from './clock.js';
import type { SessionHandle } from './session-handle.js';

interface SlotWaiter {
  members: ReadonlySet<string>;
  /** Called with the member whose slot was taken for this waiter. */
  take(member: string): void;
}

/**
 * One configured listener while it runs: its config, its open server, its sessions, and the
 * balancing memory routing reads (round-robin cursor, live sessions per member).
 */
export class ListenerRuntime {
  readonly sessions = new Set<SessionHandle>();
  private readonly sessionsByMember = new Map<string, number>();
  readonly memory: BalanceMemory;
  private readonly replicaLinksByMember = new Map<string, number>();
  /**
   * Split sessions choose their replica link with a cursor of their own: the listener's cursor
   * moves once per client connection, so links chosen between connections all saw the same turn.
   */
  readonly replicaLinkMemory: BalanceMemory;
  server: net.Server | undefined;
  /** Set when a reload removed or replaced this listener: it no longer accepts connections. */
  retired = false;
  private broadcastWindow = { startedAt: 0, count: 0 };
  /** Sessions waiting for a member under maxconn, first come first served. */
  private readonly slotWaiters = new Set<SlotWaiter>();

  /** max_lag with memory: who lagged lately, who has lagged long enough to lose its sessions. */
  readonly lag: LagHysteresis | undefined;
  /** Re-checks lag fencing when a replica that stays over max_lag becomes due, with no new snapshot. */
  lagTimer: NodeJS.Timeout | undefined;
  /**
   * Sessions relayed statement by statement (a split listener, or one whose sessions move): the
   * classifier (cached by text), the texts replicas refused as writes, what it routed where.
   */
  readonly split: { classifier: StatementClassifier; learnedWrites: Set<string>; stats: SplitStats } | undefined;

  constructor(readonly config: ListenerConfig) {
    this.memory = createBalanceMemory(this.sessionsByMember);
    this.replicaLinkMemory = createBalanceMemory(this.replicaLinksByMember);
    this.split =
      config.split === undefined && !config.moveSessions
        ? undefined
        : { classifier: new StatementClassifier(emptyFunctionCatalog), learnedWrites: new Set(), stats: new SplitStats() };
    if (config.maxLagBytes !== undefined) {
      this.lag = new LagHysteresis({ maxLagBytes: config.maxLagBytes, recoveryMs: config.maxLagRecoveryMs, fenceAfterMs: config.maxLagFenceAfterMs });
    }
  }

  /** The listener's own route as a routing request (a client override replaces `route`). */
  routeRequest(route = this.config.route): RouteRequest {
    // A split listener's tags, max_lag and balance choose its replica link; its primary link is the primary.
    if (this.config.split !== undefined && route === 'primary') return { route, tags: {}, balance: this.config.balance, now: Date.now() };
    return {
      route,
      tags: this.config.tags,
      ...(this.config.maxLagBytes !== undefined ? { maxLagBytes: this.config.maxLagBytes } : {}),
      ...(this.config.fallback !== undefined && route === this.config.route ? { fallback: this.config.fallback } : {}),
      balance: this.config.balance,
      now: Date.now(),
    };
  }

  /**
   * Takes one of `member`'s slots for a session about to connect to it, unless it is at
   * maxconn. The slot is the session's until memberSessionClosed: it counts from before the
   * connection is up, so concurrent sessions cannot overshoot the limit.
   */
  reserve(member: string): boolean {
    const n = this.sessionsByMember.get(member) ?? 0;
    if (this.config.maxconn !== undefined && n >= this.config.maxconn) return false;
    this.sessionsByMember.set(member, n + 1);
    return true;
  }

  /** A session that moved takes a slot on its new member whatever maxconn says: it had one on the member it left. */
  adopt(member: string): void {
    countUp(this.sessionsByMember, member);
  }

  /** A session let go of its member: its slot goes to the longest-waiting session that wants it. */
  memberSessionClosed(member: string): void {
    countDown(this.sessionsByMember, member);
    for (const waiter of this.slotWaiters) {
      if (!waiter.members.has(member)) continue;
      if (this.reserve(member)) waiter.take(member);
      return;
    }
  }

  /**
   * Waits in line for a slot on any of `members` (all at maxconn now): resolves with the member
   * whose slot was taken for the caller, or undefined after `timeoutMs` or an abort.
   */
  waitForSlot(members: readonly string[], timeoutMs: number, signal: AbortSignal, clock: Clock): Promise<string | undefined> {
    return new Promise((resolve) => {
      const done = (member: string | undefined): void => {
        this.slotWaiters.delete(waiter);
        clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(member);
      };
      const waiter: SlotWaiter = { members: new Set(members), take: (member) => done(member) };
      const onAbort = (): void => done(undefined);
      const timer = clock.setTimeout(() => done(undefined), timeoutMs);
      if (signal.aborted) return done(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      this.slotWaiters.add(waiter);
    });
  }

  /** A split session's replica link to `member` is open until `socket` closes: least-connections counts it. */
  replicaLinkOpened(member: string, socket: net.Socket): void {
    if (socket.destroyed) return;
    countUp(this.replicaLinksByMember, member);
    socket.once('close', () => countDown(this.replicaLinksByMember, member));
  }

  /** Client connections the listener holds now beyond max_clients. */
  overCapacity(): boolean {
    return this.sessions.size > this.config.maxClients;
  }

  /** A one-second window of cancel broadcasts (unknown keys), so a flood cannot fan out. */
  cancelBroadcastAllowed(now: number, perSecond: number): boolean {
    if (now - this.broadcastWindow.startedAt >= 1000) this.broadcastWindow = { startedAt: now, count: 0 };
    if (this.broadcastWindow.count >= perSecond) return false;
    this.broadcastWindow.count++;
    return true;
  }

  countsByMember(): Record<string, number> {
    return Object.fromEntries(this.sessionsByMember);
  }

  /** Split sessions' open replica links, per member: what a replica taken down would cut or move. */
  replicaLinkCounts(): Record<string, number> {
    return Object.fromEntries(this.replicaLinksByMember);
  }
}

function countUp(counts: Map<string, number>, member: string): void {
  counts.set(member, (counts.get(member) ?? 0) + 1);
}

/** A member whose count reaches 0 leaves the map, so the counts list only members in use. */
function countDown(counts: Map<string, number>, member: string): void {
  const n = (counts.get(member) ?? 0) - 1;
  if (n > 0) counts.set(member, n);
  else counts.delete(member);
}
