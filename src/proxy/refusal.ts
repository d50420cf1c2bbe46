/**
 * Every answer the router gives a client in its own name: a kind (for metrics and events),
 * a SQLSTATE and the sentence. Named constructors, so no code builds or parses a refusal text
 * by hand.
 */
export type RefusalKind =
  | 'startup_timeout'
  | 'bad_startup'
  | 'target_not_allowed'
  | 'cluster_unknown'
  | 'no_candidate'
  | 'hold_timeout'
  | 'backend_unreachable'
  | 'member_read_only'
  | 'member_protocol_violation'
  | 'member_lost'
  | 'authentication_timeout'
  | 'member_full'
  | 'queue_timeout'
  | 'too_many_clients'
  | 'login_refused'
  | 'shutdown'
  | 'fenced'
  | 'not_moved'
  | 'move_timeout';

export interface Refusal {
  kind: RefusalKind;
  sqlstate: string;
  message: string;
}

/** "patroni-router listener "primary"", the subject of most sentences. */
export function listenerLabel(listener: string): string {
  return `patroni-router listener "${listener}"`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Math.round(s * 10) / 10} s`;
}

const waited = (ms: number | undefined): string => (ms === undefined ? '' : ` (waited ${formatSeconds(ms)})`);

export const refusals = {
  startupTimeout: (): Refusal => ({ kind: 'startup_timeout', sqlstate: '08P01', message: 'startup packet timeout' }),
  /** A malformed or unexpected first packet; `sqlstate` as PostgreSQL answers it (08P01, 0A000). */
  badStartup: (message: string, sqlstate = '08P01'): Refusal => ({ kind: 'bad_startup', sqlstate, message }),
  noUser: (): Refusal => ({ kind: 'bad_startup', sqlstate: '28000', message: 'no PostgreSQL user name specified in startup packet' }),
  /** The client asked for a route by name; `unknown` when the name is not a route at all. */
  targetRefused: (listener: string, why: string, unknown: boolean): Refusal => ({
    kind: 'target_not_allowed',
    sqlstate: unknown ? '42704' : '08004',
    message: `${listenerLabel(listener)}: ${why}`,
  }),
  clusterUnknown: (listener: string, cluster: string): Refusal => ({
    kind: 'cluster_unknown',
    sqlstate: '08006',
    message: `${listenerLabel(listener)}: cluster ${cluster} is not followed by this router`,
  }),
  /** No member for the route; `waitedMs` once the client was held for it. */
  noCandidate: (listener: string, reason: string, waitedMs?: number): Refusal => ({
    kind: waitedMs === undefined ? 'no_candidate' : 'hold_timeout',
    sqlstate: '57P03',
    message: `${listenerLabel(listener)}: ${reason}${waited(waitedMs)}`,
  }),
  /** Members were chosen but none took the session within hold_timeout. */
  backendUnreachable: (listener: string, failure: string, waitedMs?: number): Refusal => ({
    kind: 'backend_unreachable',
    sqlstate: '08006',
    message: `${listenerLabel(listener)}: ${failure}${waited(waitedMs)}`,
  }),
  memberReadOnly: (listener: string, member: string, cluster: string): Refusal => ({
    kind: 'member_read_only',
    sqlstate: '25006',
    message: `${listenerLabel(listener)}: member ${member} of cluster ${cluster} is in hot standby (read-only); refusing a write session`,
  }),
  memberProtocolViolation: (listener: string, member: string, what: string): Refusal => ({
    kind: 'member_protocol_violation',
    sqlstate: '08P01',
    message: `${listenerLabel(listener)}: member ${member} sent an invalid message during startup (${what})`,
  }),
  memberLost: (listener: string, member: string, why: string): Refusal => ({
    kind: 'member_lost',
    sqlstate: '08006',
    message: `${listenerLabel(listener)}: connection to member ${member} lost during startup: ${why}`,
  }),
  /** As PostgreSQL says it when its own authentication_timeout expires. */
  authenticationTimeout: (listener: string, member: string, timeoutMs: number): Refusal => ({
    kind: 'authentication_timeout',
    sqlstate: '57014',
    message: `${listenerLabel(listener)}: canceling authentication due to timeout (member ${member}, ${formatSeconds(timeoutMs)})`,
  }),
  /** The member itself refused for lack of room (53300): the client hears its own words. */
  memberFull: (sqlstate: string, message: string): Refusal => ({ kind: 'member_full', sqlstate, message }),
  /** Every candidate was at the listener's maxconn for the whole queue_timeout. */
  queueTimeout: (listener: string, members: readonly string[], maxconn: number, waitedMs: number): Refusal => ({
    kind: 'queue_timeout',
    sqlstate: '53300',
    message: `${listenerLabel(listener)}: ${members.join(', ')} ${members.length === 1 ? 'has' : 'have'} ${maxconn} sessions (maxconn)${waited(waitedMs)}`,
  }),
  tooManyClients: (listener: string, maxClients: number): Refusal => ({
    kind: 'too_many_clients',
    sqlstate: '53300',
    message: `${listenerLabel(listener)}: sorry, too many clients already (max_clients ${maxClients})`,
  }),
  /** A login the router answered itself (SCRAM across terminated TLS) fails: PostgreSQL's own words. */
  loginRefused: (sqlstate: string, message: string): Refusal => ({ kind: 'login_refused', sqlstate, message }),
  shutdown: (): Refusal => ({ kind: 'shutdown', sqlstate: '57P01', message: 'patroni-router is shutting down' }),
  fenced: (reason: string): Refusal => ({ kind: 'fenced', sqlstate: '57P01', message: `terminating connection: ${reason}` }),
  /** The session's primary went away and the session could not follow it to the next one. */
  notMoved: (listener: string, member: string, why: string, reason: string): Refusal => ({
    kind: 'not_moved',
    sqlstate: '57P01',
    message: `terminating connection: ${why}; ${listenerLabel(listener)} could not move this session to the new primary: ${reason}`,
  }),
  /** A moving session waited move_timeout without a writable primary to go to, or the new one refused its state. */
  moveTimeout: (listener: string, from: string, detail: string): Refusal => ({
    kind: 'move_timeout',
    sqlstate: '57P01',
    message: `terminating connection: ${listenerLabel(listener)}: ${from} went away and the session could not go on elsewhere: ${detail}`,
  }),
};
