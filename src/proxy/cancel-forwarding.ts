import type { Logger } from 'pino';
import { sendCancel } from './backend/cancel-sender.js';
import type { CancelKey, CancelRegistry } from './cancel-registry.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { CancelOutcome } from './proxy-events.js';

/** At most this many unknown keys per listener per second are tried on members. */
const BROADCASTS_PER_SECOND = 20;

/**
 * A CancelRequest carries only the key. A key the router issued reaches the session that holds
 * it, which cancels on whichever member runs its query. Any other key can only belong to a
 * session whose startup the router could not read (TLS passed through): it is tried on the
 * members that hold such sessions of this listener now, and nowhere when there are none, so
 * garbage keys do not turn one packet in into several out. PostgreSQL ignores a key that is
 * not its own; the client gets no reply either way, as with PostgreSQL.
 */
export function forwardCancel(key: CancelKey, listener: ListenerRuntime, deps: { registry: CancelRegistry; now: number; log: Logger }): CancelOutcome {
  const issued = deps.registry.lookup(key.processId, key.secret);
  if (issued !== undefined) {
    issued.owner.cancelRunningQuery();
    return 'forwarded';
  }
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
