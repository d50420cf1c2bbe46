import type { MemberObservation } from './cluster-state.js';
import type { TopologySettings } from '../config/types.js';

export interface DcsLossInputs {
  policy: TopologySettings['dcsLossWrites'];
  /** The DCS cannot be reached right now (watch broken, reads failing). */
  stale: boolean;
  /** ms of the last successful DCS read or event. */
  lastDcsContact: number;
  now: number;
  /** `config.ttl` in seconds: how long the leader key can outlive our last look at it. */
  ttlSeconds: number;
  /** The primary's latest REST observation, if fresh (the caller decides freshness). */
  primaryObservation?: MemberObservation;
}

export interface DcsLossDecision {
  allowWrites: boolean;
  /** Why writes were refused; undefined when allowed. */
  reason?: string;
}

/**
 * May the last known primary keep taking writes while the DCS is unreachable?
 * Fail closed: once the leader key could have expired (ttl since last contact), a new leader may
 * exist that we cannot see. 'rest' additionally trusts the primary's own REST API, which is what
 * Patroni's failsafe_mode relies on; 'refuse' gives up as soon as the DCS is lost.
 */
export function decideDcsLoss(inputs: DcsLossInputs): DcsLossDecision {
  if (!inputs.stale) return { allowWrites: true };
  if (inputs.policy === 'refuse') return { allowWrites: false, reason: 'DCS unreachable (policy refuse)' };
  const sinceContact = inputs.now - inputs.lastDcsContact;
  const ttlMs = inputs.ttlSeconds * 1000;
  if (sinceContact < ttlMs) return { allowWrites: true };
  if (inputs.policy === 'rest') {
    const obs = inputs.primaryObservation;
    if (obs !== undefined && obs.reachable && obs.role === 'primary') return { allowWrites: true };
    return {
      allowWrites: false,
      reason: `DCS unreachable for ${Math.round(sinceContact / 1000)} s (ttl ${inputs.ttlSeconds} s) and the primary's REST API does not confirm it`,
    };
  }
  return {
    allowWrites: false,
    reason: `DCS unreachable for ${Math.round(sinceContact / 1000)} s, beyond ttl ${inputs.ttlSeconds} s: the leader key may have expired`,
  };
}
