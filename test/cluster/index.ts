// The real-cluster test harness: etcd, Patroni and PostgreSQL on loopback, torn down by pid.
export { freePort } from './free-port.js';
export { waitFor, type WaitOptions } from './wait-for.js';
export { startEtcd, type EtcdHandle, type EtcdOptions } from './etcd.js';
export { startCluster, type ClusterOptions, type ClusterMember, type PatroniCluster } from './patroni-cluster.js';
export { type ClusterShape, type HbaMethod, type SynchronousMode } from './cluster-shape.js';
export { patroni4Dir, type PatroniMajor } from './patroni-install.js';
export { credentials, probeTable } from './credentials.js';
export { dcsKeyPath, readDcsKey } from './dcs-keys.js';
export { getClusterView, getMemberStatus, type ClusterView, type MemberStatus, type RestTrust } from './patroni-rest.js';
export { httpRequest, type HttpAnswer, type HttpOptions } from './http-json.js';
export { newestPostgresBinDir } from './postgres-install.js';
export { logTail, logTails } from './log-tail.js';
export { reapAbandoned } from './process-registry.js';
