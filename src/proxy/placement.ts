import type { Logger } from 'pino';
import { advanceBalance } from '../routing/balance-order.js';
import { chooseBackends } from '../routing/choose-backends.js';
import { holdTimeoutMs } from '../routing/hold-timeout.js';
import type { RouteDecision, RouteRequest } from '../routing/route-request.js';
import { routeNoun } from '../routing/route-words.js';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { ClusterState, Member } from '../topology/cluster-state.js';
import type { Clock } from './clock.js';
import type { HoldQueue } from './hold-queue.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { ProxyEvents } from './proxy-events.js';
import { refusals, type Refusal } from './refusal.js';
import type { SessionPhase } from './session-handle.js';

/** Pauses between routing attempts while no member takes the session (within hold_timeout). */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

/**
 * One try of one member: it took the session, or it gave way (why; `full` when the member said
 * it has no room, with its own SQLSTATE and message), or the session is over.
 */
export type AttemptResult = { kind: 'placed' } | { kind: 'gave-way'; why: string; full?: { sqlstate: string; message: string } } | { kind: 'over' };

/** What placement needs from the session it places. */
export interface PlacementHost {
  readonly listener: ListenerRuntime;
  readonly feed: ClusterFeed | undefined;
  readonly holdQueue: HoldQueue;
  readonly events: ProxyEvents;
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborted when the client leaves or the session ends. */
  readonly signal: AbortSignal;
  isOver(): boolean;
  setPhase(phase: SessionPhase): void;
  /**
   * Connects to `member` and runs the startup there. Placement has reserved a slot on the member
   * for the session (ListenerRuntime.reserve); the session owns it from here and releases it.
   */
  attempt(member: Member, decision: RouteDecision): Promise<AttemptResult>;
}

/** Placement ends with the session placed or over (undefined), or with what to tell the client. */
export type PlacementResult = { kind: 'placed' } | { kind: 'over' } | { kind: 'refused'; refusal: Refusal };

/**
 * Finds the member a new session will use: routes, holds while the route has no member,
 * tries the candidates, and while nothing has reached the client keeps trying until the
 * listener's hold_timeout: a member that refuses the connection or the startup (a primary
 * that just died, one shutting down for a switchover, a server still in recovery) means
 * "wait for the cluster", not "fail the client". Only then the client hears why.
 */
export async function placeSession(host: PlacementHost, request: RouteRequest): Promise<PlacementResult> {
  const config = host.listener.config;
  const startedAt = host.clock.now();
  const holdMs = holdTimeoutMs(config.holdTimeoutMs, host.feed?.current()?.config);
  const deadline = startedAt + holdMs;
  const waited = (): number | undefined => (holdMs > 0 ? host.clock.now() - startedAt : undefined);
  for (let attempt = 0; ; attempt++) {
    const decided = await decide(host, request, deadline, startedAt, holdMs);
    if (decided.kind !== 'decision') return decided;
    const tried = await tryCandidates(host, decided.decision);
    if (tried.kind !== 'all-gave-way') return tried;
    // A member that has no room says so at once; retrying would only storm it (53300).
    if (tried.full !== undefined) return { kind: 'refused', refusal: refusals.memberFull(tried.full.sqlstate, tried.full.message) };
    if (host.isOver()) return { kind: 'over' };
    const remaining = deadline - host.clock.now();
    if (remaining <= 0) return { kind: 'refused', refusal: refusals.backendUnreachable(config.name, tried.failure, waited()) };
    const delay = Math.min(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)] as number, remaining);
    host.log.info({ reason: tried.failure, retryInMs: delay }, 'no member took the session yet; holding and retrying');
    host.setPhase('holding');
    if (!(await pause(host, delay))) return { kind: 'over' };
  }
}

type Decided = { kind: 'decision'; decision: RouteDecision } | { kind: 'over' } | { kind: 'refused'; refusal: Refusal };

/** Routes now, or holds until the cluster offers a candidate. */
async function decide(host: PlacementHost, request: RouteRequest, deadline: number, startedAt: number, holdMs: number): Promise<Decided> {
  const config = host.listener.config;
  const feed = host.feed;
  if (feed === undefined) return { kind: 'refused', refusal: refusals.clusterUnknown(config.name, config.cluster) };
  // Lag memory moves on while a session waits: read it afresh at every decision.
  const decideOn = (state: ClusterState): RouteDecision => {
    const now = host.clock.now();
    const lagHeld = host.listener.lag?.held(now);
    return chooseBackends(state, { ...request, now, ...(lagHeld !== undefined ? { lagHeld } : {}) }, host.listener.memory);
  };
  const state = feed.current();
  const decision = state === undefined ? undefined : decideOn(state);
  if (decision !== undefined && decision.candidates.length > 0) return { kind: 'decision', decision };
  const reason = decision?.reason ?? `no ${routeNoun(request.route)} in cluster ${config.cluster}: topology not read yet`;
  const waitedMs = (): number | undefined => (holdMs > 0 ? host.clock.now() - startedAt : undefined);
  if (host.clock.now() >= deadline) return { kind: 'refused', refusal: refusals.noCandidate(config.name, reason, waitedMs()) };
  host.setPhase('holding');
  host.events.holdStarted({ listener: config.name });
  host.log.debug({ reason }, 'holding connection');
  const held = await host.holdQueue.wait({
    listener: config.name,
    feed,
    decide: decideOn,
    timeoutMs: deadline - host.clock.now(),
    signal: host.signal,
  });
  host.events.holdEnded({ listener: config.name, waitedMs: held.waitedMs, outcome: held.outcome });
  if (host.isOver()) return { kind: 'over' };
  host.setPhase('startup');
  switch (held.outcome) {
    case 'proceeded':
      return { kind: 'decision', decision: held.decision };
    case 'timeout':
      return { kind: 'refused', refusal: refusals.noCandidate(config.name, held.lastReason ?? reason, host.clock.now() - startedAt) };
    case 'shutdown':
      return { kind: 'refused', refusal: refusals.shutdown() };
    case 'client-gone':
      return { kind: 'over' };
  }
}

type Tried =
  { kind: 'placed' } | { kind: 'over' } | { kind: 'refused'; refusal: Refusal } | { kind: 'all-gave-way'; failure: string; full?: { sqlstate: string; message: string } };

/**
 * Tries the decision's candidates in order. A write route never tries another member (only
 * the primary may take writes); a read route moves on when a member refuses or times out.
 * Members at the listener's maxconn are passed over; when every candidate is, the session
 * waits in line for a slot up to queue_timeout, so a full member never sees the surplus.
 */
async function tryCandidates(host: PlacementHost, decision: RouteDecision): Promise<Tried> {
  const { listener } = host;
  advanceBalance(listener.memory);
  const candidates = (decision.routeUsed === 'primary' ? decision.candidates.slice(0, 1) : decision.candidates).filter((m) => m.host !== undefined && m.port !== undefined);
  let lastFailure = 'no usable address';
  let lastMember: Member | undefined;
  let full: { sqlstate: string; message: string } | undefined;
  let everyoneFull = candidates.length > 0;
  const atCapacity: Member[] = [];
  const tryOne = async (member: Member): Promise<Tried | undefined> => {
    lastMember = member;
    const result = await host.attempt(member, decision);
    if (result.kind === 'placed' || result.kind === 'over') return result;
    lastFailure = result.why;
    if (result.full !== undefined) full = result.full;
    else everyoneFull = false;
    return undefined;
  };
  for (const member of candidates) {
    if (!listener.reserve(member.name)) {
      atCapacity.push(member);
      continue;
    }
    const ended = await tryOne(member);
    if (ended !== undefined) return ended;
  }
  if (atCapacity.length > 0 && atCapacity.length === candidates.length && listener.config.maxconn !== undefined) {
    const waitedFrom = host.clock.now();
    host.setPhase('holding');
    const names = atCapacity.map((m) => m.name);
    const slot = await listener.waitForSlot(names, listener.config.queueTimeoutMs, host.signal, host.clock);
    if (host.isOver()) {
      if (slot !== undefined) listener.memberSessionClosed(slot);
      return { kind: 'over' };
    }
    host.setPhase('startup');
    if (slot === undefined) return { kind: 'refused', refusal: refusals.queueTimeout(listener.config.name, names, listener.config.maxconn, host.clock.now() - waitedFrom) };
    const ended = await tryOne(atCapacity.find((m) => m.name === slot) as Member);
    if (ended !== undefined) return ended;
  }
  const noun = routeNoun(decision.routeUsed);
  const which = lastMember === undefined ? '' : ` ${lastMember.name} (${lastMember.host}:${lastMember.port})`;
  const failure = `could not connect to ${noun}${which} of cluster ${listener.config.cluster}: ${lastFailure}`;
  return everyoneFull && full !== undefined ? { kind: 'all-gave-way', failure, full } : { kind: 'all-gave-way', failure };
}

/**
 * Waits `ms`, or less when the cluster's state changes meanwhile (a new primary should be
 * tried at once, not after the rest of a back-off); false when the session is over.
 */
function pause(host: PlacementHost, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (host.signal.aborted) return resolve(false);
    const done = (goOn: boolean): void => {
      host.clock.clearTimeout(timer);
      unsubscribe();
      host.signal.removeEventListener('abort', onAbort);
      resolve(goOn && !host.isOver());
    };
    const onAbort = (): void => done(false);
    const timer = host.clock.setTimeout(() => done(true), ms);
    const unsubscribe = host.feed?.subscribe(() => done(true)) ?? (() => undefined);
    host.signal.addEventListener('abort', onAbort, { once: true });
  });
}
