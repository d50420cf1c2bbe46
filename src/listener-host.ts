import type { RouterConfig } from './config/types.js';
import type { ListenerChanges, ListenerSessions, ListenerStatus, ProxyServer } from './proxy/proxy-server.js';

/**
 * Where the listeners run and the sessions live: this process (a ProxyServer), or worker
 * processes (src/workers/worker-pool.ts). The composition root drives either the same way.
 */
export interface ListenerHost {
  /** Binds every listener; rejects, with nothing left running, if one cannot be bound. */
  start(): Promise<void>;
  /** A reload: the listeners of `next` (the host keeps unchanged ones and their sessions). */
  reload(next: RouterConfig): Promise<ListenerChanges>;
  /** Stops accepting, lets sessions finish for up to `timeoutMs`, closes the rest with 57P01. */
  drain(timeoutMs: number): Promise<void>;
  /** Immediate stop. */
  close(): Promise<void>;
  listeners(): ListenerStatus[];
  /** Worker processes answer when asked; one process at once. */
  sessions(): ListenerSessions[] | Promise<ListenerSessions[]>;
}

/** The listeners in this process, as the router ran before `workers`. */
export function inProcessHost(proxy: ProxyServer): ListenerHost {
  return {
    start: () => proxy.start(),
    reload: (next) => proxy.applyListeners(next.listeners),
    drain: (timeoutMs) => proxy.drain(timeoutMs),
    close: () => proxy.close(),
    listeners: () => proxy.listeners(),
    sessions: () => proxy.sessions(),
  };
}
