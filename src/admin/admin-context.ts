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

/**
 * Everything the admin HTTP server and the metrics read from the running router. The
 * composition root (src/patroni-router.ts) implements it; tests can hand-feed it.
 */
export interface AdminContext {
  config(): RouterConfig;
  feeds(): ReadonlyMap<string, ClusterFeed>;
  dcsHealth(): DcsHealth[];
  listeners(): ListenerStatus[];
  sessions(): ListenerSessions[];
  /** Topology known for every cluster and every listener bound. */
  ready(): boolean;
}
