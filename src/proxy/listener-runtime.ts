import type net from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import type { BalanceMemory, RouteRequest } from '../routing/route-request.js';
import { createBalanceMemory } from '../routing/balance-order.js';
import type { SessionHandle } from './session-handle.js';

/**
 * One configured listener while it runs: its config, its open server, its sessions, and the
 * balancing memory routing reads (round-robin cursor, live sessions per member).
 */
export class ListenerRuntime {
  readonly sessions = new Set<SessionHandle>();
  private readonly sessionsByMember = new Map<string, number>();
  readonly memory: BalanceMemory;
  server: net.Server | undefined;
  /** Set when a reload removed or replaced this listener: it no longer accepts connections. */
  retired = false;
  private broadcastWindow = { startedAt: 0, count: 0 };

  constructor(readonly config: ListenerConfig) {
    this.memory = createBalanceMemory(this.sessionsByMember);
  }

  /** The listener's own route as a routing request (a client override replaces `route`). */
  routeRequest(route = this.config.route): RouteRequest {
    return {
      route,
      tags: this.config.tags,
      ...(this.config.maxLagBytes !== undefined ? { maxLagBytes: this.config.maxLagBytes } : {}),
      ...(this.config.fallback !== undefined && route === this.config.route ? { fallback: this.config.fallback } : {}),
      balance: this.config.balance,
      now: Date.now(),
    };
  }

  memberSessionOpened(member: string): void {
    this.sessionsByMember.set(member, (this.sessionsByMember.get(member) ?? 0) + 1);
  }

  memberSessionClosed(member: string): void {
    const n = (this.sessionsByMember.get(member) ?? 0) - 1;
    if (n > 0) this.sessionsByMember.set(member, n);
    else this.sessionsByMember.delete(member);
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
}
