/** What a fault needs of the run: the cluster, the router's ports and admin API, the users, and where to report. */
import type { PatroniCluster } from '../../test/cluster/index.js';
import type { ViolationLog } from '../invariants/violations.js';
import type { AdminClient } from '../router/admin-client.js';
import type { ChaosListener } from '../router/router-config.js';
import type { SeededRandom } from '../seeded-random.js';

export interface FaultContext {
  cluster: PatroniCluster;
  admin: AdminClient;
  ports: Record<ChaosListener, number>;
  /** The role clients log in as through the router (SCRAM, so sessions can move). */
  login: { user: string; password: string };
  /** A trust role for the fillers of a full primary (not a superuser: Patroni keeps its reserved slots). */
  fillerUser: string;
  startupTimeoutMs: number;
  violations: ViolationLog;
  /** The fault's own random stream, for what it draws at run time (garbage bytes). */
  random: SeededRandom;
  progress(line: string): void;
}

export interface FaultRecord {
  index: number;
  kind: string;
  description: string;
  startedAt: number;
  /** When the fault itself was over (before recovery). */
  endedAt: number;
  /** When the cluster and the router were healthy again. */
  recoveredAt?: number;
  /** The member it hit, if one. */
  target?: string;
  notes: string[];
  /** Why the fault could not be injected (the harness failed, not the router). */
  failed?: string;
}
