import type { ListenerSessions, ListenerStatus } from '../proxy/proxy-server.js';

type Split = NonNullable<ListenerSessions['split']>;

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>): void {
  for (const key of Object.keys(from) as K[]) into[key] = (into[key] ?? 0) + (from[key] ?? 0);
}

function mergeSplit(a: Split, b: Split): Split {
  const units = { ...a.units };
  addCounts(units, b.units);
  const primaryReasons = { ...a.primaryReasons };
  addCounts(primaryReasons, b.primaryReasons);
  const pinned = { ...a.pinned };
  addCounts(pinned, b.pinned);
  const replicaLinks = { ...a.replicaLinks };
  addCounts(replicaLinks, b.replicaLinks);
  return { units, primaryReasons, retriedOnPrimary: a.retriedOnPrimary + b.retriedOnPrimary, pinned, replicaLinks };
}

/**
 * The sessions of every worker as one router's: per listener (a retired listener apart from
 * the live one of the same name), counts summed, members' sessions summed, the lag memory of
 * any worker (they all see the same snapshots). Pure.
 */
export function mergeSessions(perWorker: ReadonlyArray<readonly ListenerSessions[]>): ListenerSessions[] {
  const merged = new Map<string, ListenerSessions>();
  for (const sessions of perWorker) {
    for (const s of sessions) {
      const key = `${s.retired ? 'retired' : 'live'}:${s.listener}`;
      const seen = merged.get(key);
      if (seen === undefined) {
        merged.set(key, { ...s, byPhase: { ...s.byPhase }, byMember: { ...s.byMember }, ...(s.lagHeld !== undefined ? { lagHeld: { ...s.lagHeld } } : {}) });
        continue;
      }
      seen.total += s.total;
      seen.held += s.held;
      addCounts(seen.byPhase, s.byPhase);
      addCounts(seen.byMember, s.byMember);
      if (s.lagHeld !== undefined) seen.lagHeld = { ...s.lagHeld, ...seen.lagHeld };
      if (s.split !== undefined) seen.split = seen.split === undefined ? s.split : mergeSplit(seen.split, s.split);
    }
  }
  return [...merged.values()];
}

/**
 * The listeners of every worker as one router's: a listener accepts while any worker accepts
 * on it (they share its socket), and is retired while any worker still drains it. Pure.
 */
export function mergeListeners(perWorker: ReadonlyArray<readonly ListenerStatus[]>): ListenerStatus[] {
  const merged = new Map<string, ListenerStatus>();
  for (const listeners of perWorker) {
    for (const l of listeners) {
      const key = `${l.retired ? 'retired' : 'live'}:${l.name}`;
      const seen = merged.get(key);
      if (seen === undefined) merged.set(key, { ...l });
      else seen.accepting ||= l.accepting;
    }
  }
  return [...merged.values()];
}
