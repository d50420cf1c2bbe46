import { httpJson } from './http-json.js';

/** The parts of Patroni's REST answers the harness looks at. */
export interface ClusterViewMember {
  name: string;
  /** leader, replica, sync_standby, quorum_standby (4.x quorum mode), standby_leader, ... */
  role: string;
  /** running; replicas in 3.0.4+ report their replication state: streaming, in archive recovery. */
  state: string;
  host?: string;
  port?: number;
  lag?: number | string;
  tags?: Record<string, unknown>;
}

export interface ClusterView {
  members: ClusterViewMember[];
  pause?: boolean;
}

export interface ReplicationRow {
  usename?: string;
  application_name?: string;
  client_addr?: string;
  state?: string;
  sync_state?: string;
}

export interface MemberStatus {
  role?: string;
  state?: string;
  tags?: Record<string, unknown>;
  replication?: ReplicationRow[];
  pause?: boolean;
  patroni?: { version?: string; scope?: string; name?: string };
}

/** How to reach a member's REST API: the CA to trust when it serves HTTPS. */
export interface RestTrust {
  ca?: string | Buffer;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** GET /cluster from one member. */
export async function getClusterView(restUrl: string, trust: RestTrust = {}): Promise<ClusterView> {
  const body = await httpJson('GET', `${restUrl}/cluster`, undefined, { timeoutMs: 2000, ...trust });
  if (!isObject(body) || !Array.isArray(body.members)) {
    throw new Error(`GET ${restUrl}/cluster: unexpected answer ${JSON.stringify(body).slice(0, 200)}`);
  }
  return body as unknown as ClusterView;
}

/** GET /patroni from one member. */
export async function getMemberStatus(restUrl: string, trust: RestTrust = {}): Promise<MemberStatus> {
  const body = await httpJson('GET', `${restUrl}/patroni`, undefined, { timeoutMs: 2000, ...trust });
  if (!isObject(body)) throw new Error(`GET ${restUrl}/patroni: unexpected answer`);
  return body as MemberStatus;
}
