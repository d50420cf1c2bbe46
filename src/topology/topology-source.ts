import type { ParsedKeys } from './parse-cluster-keys.js';

/** One change to a cluster's keys; keys are relative to the scope prefix (`leader`, `members/pg0`). */
export type KeyEvent = { type: 'put'; key: string; value: string } | { type: 'delete'; key: string };

export type TopologyUpdate =
  /** A full read of the prefix: replaces every key the follower knew. */
  | { kind: 'snapshot'; keys: Map<string, string> }
  /** Watch events, in order (one etcd watch response may carry several). */
  | { kind: 'events'; events: KeyEvent[] }
  /** A source that does not see keys (REST `GET /cluster`) hands over the parsed picture. */
  | { kind: 'parsed'; parsed: ParsedKeys };

export type SourceStatus = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** Where a source delivers what it learns; called synchronously as data arrives. */
export interface TopologySink {
  update(update: TopologyUpdate): void;
  status(status: SourceStatus, error?: string): void;
}

/** A follower of one cluster's keys (etcd v3 watch, etcd v2 long-poll, or REST polling). */
export interface TopologySource {
  start(sink: TopologySink): void;
  stop(): Promise<void>;
}
