import type { RouterConfig } from '../config/types.js';
import type { ListenerSessions, ListenerStatus } from '../proxy/proxy-server.js';
import type { ClusterFeed } from '../topology/cluster-feed.js';

/** How the DCS connection of one followed cluster is doing, for /metrics and the status page. */
export interface DcsHealth {
  scope: string;
  /** 'watching' (live), 'reconnecting', 'polling' (REST-only), 'stopped'. */
  watch: string;
  /** ms timestamp of the last successful contact; undefined before the first. */
  lastContact?: number;
}

/** One worker process of a router with `workers` (src/workers/worker-pool.ts), for /topology and the status page. */
export interface WorkerStatus {
  index: number;
  pid?: number;
  state: 'starting' | 'ready' | 'restarting' | 'draining' | 'stopped';
  /** ms when the running process was forked. */
  since?: number;
  /** Times this worker was started again after it exited. */
  restarts: number;
  /** Open client connections, whatever their phase; undefined when the worker did not answer. */
  sessions?: number;
}

/**
 * Everything the admin HTTP server and the metrics read from the running router. The
 * composition root (src/patroni-router.ts) implements it; tests can hand-feed it.
 */
export interface AdminContext {
  config(): RouterConfig;
  feeds(): ReadonlyMap<string, ClusterFeed>;
  dcsHealth(): DcsHealth[];
  listeners(): ListenerStatus[];
  /** Summed over the worker processes when there are several (they answer when asked). */
  sessions(): ListenerSessions[] | Promise<ListenerSessions[]>;
  /** The worker processes, when the router runs several. */
  workers?(): WorkerStatus[] | Promise<WorkerStatus[]>;
  /** Topology known for every cluster and every listener bound. */
  ready(): boolean;
}
