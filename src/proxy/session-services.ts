import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { AuthQueryResult } from './backend/auth/auth-query.js';
import type { BackendConnector } from './backend/connector.js';
import type { CancelPeers } from './cancel-forwarding.js';
import type { CancelRegistry } from './cancel-registry.js';
import type { Clock } from './clock.js';
import type { HoldQueue } from './hold-queue.js';
import type { ProxyEvents } from './proxy-events.js';
import type { ReplayPosition } from './split/read-your-writes.js';

/** What every session shares: the proxy's services, passed in (no module singletons). */
export interface SessionServices {
  feedFor(scope: string): ClusterFeed | undefined;
  /** Set when the router terminates TLS (cert and key configured). */
  serverTls: tls.SecureContext | undefined;
  connector: BackendConnector;
  startupTimeoutMs: number;
  authenticationTimeoutMs: number;
  targetPrefix: string;
  /** The user's stored secret from the cluster's auth_query, when `auth:` is configured. */
  secretLookup?: (cluster: string, user: string) => Promise<AuthQueryResult>;
  /** Where a replica has replayed to (split listeners). */
  replayPosition(cluster: string, member: string): ReplayPosition | undefined;
  /** Resolves once a replay position read from now on is known (or could not be read). */
  refreshReplayPosition(cluster: string, member: string): Promise<void>;
  /** A replica's position a session read itself (a replay check): every session may use it. */
  replayObserved(cluster: string, member: string, position: ReplayPosition): void;
  cancelRegistry: CancelRegistry;
  /** The other worker processes, when the router runs several (a cancel may belong to one of them). */
  cancelPeers?: CancelPeers;
  holdQueue: HoldQueue;
  events: ProxyEvents;
  logger: Logger;
  clock: Clock;
}
