import type { Logger } from 'pino';
import { chooseBackends } from '../routing/choose-backends.js';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import { sendCancel } from './backend/cancel-sender.js';
import type { CancelRegistry } from './cancel-registry.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { CancelOutcome } from './proxy-events.js';

/**
 * A CancelRequest carries only the key. Known key: send it to the backend that issued it.
 * Unknown (sessions whose startup the router could not read, i.e. TLS pass-through): send it
 * to every current candidate of this listener; PostgreSQL ignores a key that is not its own.
 * The client gets no reply either way, as with PostgreSQL.
 */
export function forwardCancel(
  key: { processId: number; secret: Buffer },
  listener: ListenerRuntime,
  deps: { registry: CancelRegistry; feed: ClusterFeed | undefined; now: number; log: Logger },
): CancelOutcome {
  const config = listener.config;
  const known = deps.registry.lookup(key.processId, key.secret);
  let targets: Array<{ host: string; port: number }> = [];
  let outcome: CancelOutcome = 'unknown';
  if (known !== undefined) {
    targets = [known];
    outcome = 'forwarded';
  } else {
    const state = deps.feed?.current();
    if (state !== undefined) {
      const decision = chooseBackends(state, { ...listener.routeRequest(), now: deps.now }, listener.memory);
      targets = decision.candidates.flatMap((m) => (m.host !== undefined && m.port !== undefined ? [{ host: m.host, port: m.port }] : []));
      if (targets.length > 0) outcome = 'broadcast';
    }
  }
  for (const target of targets) sendCancel(target, key.processId, key.secret, config.connectTimeoutMs, deps.log);
  deps.log.debug({ outcome, targets: targets.length }, 'cancel request');
  return outcome;
}
