import type { Logger } from 'pino';
import { sendCancel } from './backend/cancel-sender.js';
import { CancelRegistry, type CancelKey } from './cancel-registry.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { CancelOutcome } from './proxy-events.js';

/** At most this many unknown keys per listener per second are tried on members. */
const BROADCASTS_PER_SECOND = 20;

/**
 * How a worker process reaches the other workers with a CancelRequest (through the router's
 * primary process, src/workers/). Absent when the router runs in one process.
 */
export interface CancelPeers {
  /** This process's worker index, 1..count: the top byte of the keys it issues. */
  readonly index: number;
  readonly count: number;
  /** To the worker that issued the key: it cancels on whichever member runs the query. */
  toOwner(worker: number, listener: string, key: CancelKey): void;
  /** To every other worker, for a key that may be a member's own (TLS passed through): each tries its members. */
  toOthers(listener: string, key: CancelKey): void;
}

export interface CancelDeps {
  registry: CancelRegistry;
  now: number;
  log: Logger;
  peers?: CancelPeers;
  /** The router passes TLS through (no certificate): sessions may hold their member's own key. */
  passThrough: boolean;
}

/** The other worker that issued a key, if the key names one. Pure. */
export function otherWorkerOf(processId: number, peers: Pick<CancelPeers, 'index' | 'count'>): number | undefined {
  const worker = CancelRegistry.workerOf(processId);
  return worker >= 1 && worker <= peers.count && worker !== peers.index ? worker : undefined;
}

/**
 * A CancelRequest carries only the key. A key the router issued reaches the session that holds
 * it, which cancels on whichever member runs its query; with workers, a key another worker
 * issued (its index in the process id's top byte) is handed to that worker. Any other key can
 * only belong to a session whose startup the router could not read (TLS passed through): it is
 * tried on the members that hold such sessions of this listener now (and, with workers, the
 * other workers try theirs), and nowhere when there are none, so garbage keys do not turn one
 * packet in into several out. PostgreSQL ignores a key that is not its own; the client gets no
 * reply either way, as with PostgreSQL.
 */
export function forwardCancel(key: CancelKey, listener: ListenerRuntime, deps: CancelDeps): CancelOutcome {
  const peers = deps.peers;
  const owner = peers === undefined ? undefined : otherWorkerOf(key.processId, peers);
  if (peers !== undefined && owner !== undefined) {
    peers.toOwner(owner, listener.config.name, key);
    return 'other-worker';
  }
  const issued = deps.registry.lookup(key.processId, key.secret);
  if (issued !== undefined) {
    issued.owner.cancelRunningQuery();
    return 'forwarded';
  }
  const outcome = tryPassThroughMembers(key, listener, deps);
  // PostgreSQL's process ids stay below 2^22, so a member's own key has a top byte of 0.
  const mayBeMembers = deps.passThrough && CancelRegistry.workerOf(key.processId) === 0;
  if (peers === undefined || peers.count < 2 || !mayBeMembers) return outcome;
  peers.toOthers(listener.config.name, key);
  return outcome === 'unknown' ? 'other-worker' : outcome;
}

/** A CancelRequest another worker received for a key this one issued. */
export function cancelForPeer(key: CancelKey, registry: CancelRegistry, log: Logger): boolean {
  const issued = registry.lookup(key.processId, key.secret);
  if (issued === undefined) {
    log.debug({ processId: key.processId }, 'cancel request from another worker: no session holds that key (it ended meanwhile)');
    return false;
  }
  issued.owner.cancelRunningQuery();
  return true;
}

/** The key tried on the members of this listener's TLS pass-through sessions, at a bounded rate. */
export function tryPassThroughMembers(key: CancelKey, listener: ListenerRuntime, deps: Pick<CancelDeps, 'now' | 'log'>): CancelOutcome {
  const targets = new Map<string, { host: string; port: number }>();
  for (const session of listener.sessions) {
    const m = session.member;
    if (session.phase === 'passthrough' && m?.host !== undefined && m.port !== undefined) targets.set(`${m.host}:${m.port}`, { host: m.host, port: m.port });
  }
  if (targets.size === 0) return 'unknown';
  if (!listener.cancelBroadcastAllowed(deps.now, BROADCASTS_PER_SECOND)) return 'rate-limited';
  for (const target of targets.values()) sendCancel(target, key.processId, key.secret, listener.config.connectTimeoutMs, deps.log);
  deps.log.debug({ targets: targets.size }, 'cancel request with an unknown key tried on the members of TLS pass-through sessions');
  return 'broadcast';
}
