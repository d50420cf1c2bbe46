import type { Balance } from '../config/types.js';
import type { Member } from '../topology/cluster-state.js';
import type { BalanceMemory } from './route-request.js';

/**
 * Orders eligible members: the first is the pick, the rest are the retry order.
 * The input is sorted by name first, so the same state and memory always give the same order.
 *
 * - round-robin: the name-sorted list rotated by `memory.nextIndex`.
 * - least-connections: fewest live sessions first; ties keep their round-robin order.
 * - random: `memory.random()` picks the first; the rest follow it in name order (wrapping).
 */
export function orderByBalance(eligible: readonly Member[], balance: Balance, memory: BalanceMemory): Member[] {
  const sorted = [...eligible].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const n = sorted.length;
  if (n <= 1) return sorted;
  switch (balance) {
    case 'round-robin':
      return rotate(sorted, cursor(memory.nextIndex, n));
    case 'least-connections': {
      const roundRobin = rotate(sorted, cursor(memory.nextIndex, n));
      const sessions = (m: Member): number => memory.sessionsByMember.get(m.name) ?? 0;
      // Array.prototype.sort is stable, so ties keep the round-robin order.
      return roundRobin.sort((a, b) => sessions(a) - sessions(b));
    }
    case 'random': {
      const r = memory.random();
      const index = Number.isFinite(r) ? Math.min(n - 1, Math.max(0, Math.floor(r * n))) : 0;
      return rotate(sorted, index);
    }
  }
}

/** Moves the round-robin cursor on; the proxy calls it once per routed connection. */
export function advanceBalance(memory: BalanceMemory): void {
  memory.nextIndex = memory.nextIndex >= Number.MAX_SAFE_INTEGER ? 0 : memory.nextIndex + 1;
}

/** A fresh memory for one listener; `random` is injectable so tests are deterministic. */
export function createBalanceMemory(sessionsByMember: ReadonlyMap<string, number> = new Map(), random: () => number = Math.random): BalanceMemory {
  return { nextIndex: 0, sessionsByMember, random };
}

function cursor(nextIndex: number, n: number): number {
  if (!Number.isFinite(nextIndex)) return 0;
  return ((Math.trunc(nextIndex) % n) + n) % n;
}

function rotate<T>(items: readonly T[], start: number): T[] {
  return [...items.slice(start), ...items.slice(0, start)];
}
