/**
 * The router's picture of one Patroni cluster: immutable, numbered snapshots.
 * Everything downstream (routing, fencing, holding, metrics, the status page) reads these.
 */

/** Patroni roles as written in member keys (3.x says `master`, 4.x says `primary`). */
export type MemberRole = 'primary' | 'replica' | 'standby_leader' | 'promoted' | 'demoted' | 'uninitialized' | 'unknown';

/** Effective tags, with Patroni's defaults and aliases applied (e.g. failover_priority <= 0 => nofailover). */
export interface MemberTags {
  nofailover: boolean;
  noloadbalance: boolean;
  nosync: boolean;
  nostream: boolean;
  replicatefrom?: string;
  /** Every tag as Patroni wrote it, for `?tag_key=value` style filters. Values kept as strings. */
  raw: Readonly<Record<string, string>>;
}

/** What the REST prober saw on the member's own `GET /patroni`, fresher than the DCS. */
export interface MemberObservation {
  /** Wall-clock ms when the answer arrived. */
  at: number;
  /**
   * Wall-clock ms when the question was sent: the answer describes the member at some moment
   * between askedAt and at, so it only overrules DCS news that arrived before askedAt.
   */
  askedAt?: number;
  /** false when the last probe failed (timeout, refused, non-JSON). */
  reachable: boolean;
  role?: MemberRole;
  state?: string;
  timeline?: number;
  /** Primary: xlog.location. Replica: replayed_location. Bytes. */
  walPosition?: number;
  /**
   * Which shape the answer's `xlog` had: `primary` (`location`) or `replica` (`received_location`
   * / `replayed_location`). Patroni picks the shape from `pg_is_in_recovery()` in the same query,
   * so `primary` means postgres itself said it had left recovery.
   */
  xlogShape?: 'primary' | 'replica';
  receivedPosition?: number;
  replayPaused?: boolean;
  error?: string;
}

export interface Member {
  name: string;
  /** From conn_url; undefined when conn_url is missing or malformed (member then unusable). */
  host?: string;
  port?: number;
  apiUrl?: string;
  role: MemberRole;
  state: string;
  /**
   * A replica's `replication_state` (Patroni 3.0.4+): `streaming`, or `in archive recovery`
   * (from the archive only, e.g. tagged `nostream`). What `patronictl list` shows as its state.
   */
  replicationState?: string;
  timeline?: number;
  /** xlog_location from the member key (bytes). */
  walPosition?: number;
  receiveLsn?: number;
  replayLsn?: number;
  tags: MemberTags;
  /** Bytes behind the leader: live (REST) when available, else from DCS positions. */
  lagBytes?: number;
  /** Where lagBytes came from. */
  lagSource?: 'rest' | 'dcs';
  observed?: MemberObservation;
  /** Set when the member key could not be parsed; such a member is never routed to. */
  invalid?: string;
  pendingRestart?: boolean;
  /** `scheduled_restart.schedule` of the member key: when Patroni will restart it (`patronictl restart --scheduled`). */
  scheduledRestartAt?: string;
  version?: string;
}

export interface SyncState {
  leader?: string;
  standbys: readonly string[];
  quorum?: number;
}

export interface ClusterConfig {
  ttl: number;
  loopWait: number;
  retryTimeout?: number;
  synchronousMode: boolean | 'quorum';
  synchronousModeStrict: boolean;
  failsafeMode: boolean;
  pause: boolean;
  maximumLagOnFailover?: number;
}

export interface ClusterState {
  /** Monotonic per cluster; bumps on every change. */
  generation: number;
  scope: string;
  namespace: string;
  members: readonly Member[];
  /** Name in the leader key, if any. */
  leader?: string;
  sync: SyncState;
  config: ClusterConfig;
  /** The `failover` key holds a request: a switchover or failover is underway. */
  switchoverPending: boolean;
  failover?: { leader?: string; candidate?: string; scheduledAt?: string };
  /** `status` optime (leader's WAL position, bytes). */
  leaderOptime?: number;
  timelineHistory?: readonly unknown[];
  /** Member names listed in the failsafe key. */
  failsafeMembers?: readonly string[];
  /**
   * Set only when every signal agrees: the leader key names a member whose member key says
   * primary/master and running (and, when the REST prober has spoken, it agrees) — or whose
   * member key still says replica/promoted but whose own REST API, asked after the leader key
   * and its member key last changed, reports a running primary out of recovery
   * (see docs/topology.md).
   */
  writablePrimary?: string;
  /** ms timestamp of the last successful read/watch event from the DCS. */
  lastDcsContact: number;
  /** true when the DCS has not been reachable; see topology/dcs-loss-policy. */
  stale: boolean;
  /**
   * Why the picture is stale when the DCS is not to blame: a worker process that can no longer
   * hear the router's primary process (src/workers/lost-view.ts). Such a picture has no
   * writable primary.
   */
  staleReason?: string;
  /** What writes do while the DCS is unreachable (topology.dcs_loss_writes), for the messages that say so. */
  dcsLossPolicy?: 'ttl' | 'rest' | 'refuse';
  /** Problems with individual keys: logged and exposed, never fatal. */
  problems: readonly string[];
}

export interface StateChange {
  previous: ClusterState | undefined;
  next: ClusterState;
  /** Human-readable summary of what changed, e.g. ["leader pg0 -> pg1", "pg0 role primary -> demoted"]. */
  changes: readonly string[];
}

export type StateListener = (change: StateChange) => void;

export function memberByName(state: ClusterState, name: string | undefined): Member | undefined {
  if (name === undefined) return undefined;
  return state.members.find((m) => m.name === name);
}
