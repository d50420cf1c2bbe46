/**
 * What the router's primary process and its worker processes say to each other over the
 * cluster module's IPC channel (advanced serialization: structured clone, so undefined, NaN
 * and nested objects arrive as sent). Types and the checks of what arrives; no I/O.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { RouterConfig } from '../config/types.js';
import type { ListenerChanges } from '../config/reload-plan.js';
import type { ListenerSessions, ListenerStatus } from '../proxy/proxy-server.js';
import type { ProxyEvent, ProxyEvents } from '../proxy/proxy-events.js';
import type { RelayedSnapshot } from './relayed-feed.js';

/** Proxy events the primary's observers (event log, failover timeline) need from the workers. */
export type NoticeName = 'sessionStarted' | 'fenced' | 'refused' | 'holdEnded' | 'sessionPinned' | 'sessionMoved' | 'sessionNotMoved';

export type Notice = { [K in NoticeName]: { type: 'notice'; name: K; event: ProxyEvent<K> } }[NoticeName];

/** A cancel key on the wire between processes: the secret as hex. */
export interface CancelMessage {
  listener: string;
  processId: number;
  secret: string;
}

export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** What a worker reports when asked: its listeners and sessions, and its metrics when asked for them. */
export interface WorkerReport {
  listeners: ListenerStatus[];
  sessions: ListenerSessions[];
  cancelKeys: number;
  metrics?: MetricsJson;
}

/** Primary to worker. */
export type ToWorker =
  /** The answer to `hello`: who the worker is, what to run, and the latest snapshot of each cluster. */
  | { type: 'start'; index: number; count: number; config: RouterConfig; logFormat?: 'json' | 'pretty'; snapshots: RelayedSnapshot[] }
  | ({ type: 'snapshot' } & RelayedSnapshot)
  | { type: 'reload'; id: number; config: RouterConfig }
  | ({ type: 'cancel'; reach: 'owner' | 'pass-through' } & CancelMessage)
  | { type: 'report'; id: number; metrics: boolean }
  | { type: 'drain'; timeoutMs: number };

/** Worker to primary. */
export type FromWorker =
  /** Sent once the worker listens for messages: anything sent to it before would be lost. */
  | { type: 'hello' }
  | { type: 'ready'; listeners: ListenerStatus[] }
  | { type: 'failed'; error: string }
  | { type: 'reloaded'; id: number; changes: ListenerChanges; listeners: ListenerStatus[] }
  | { type: 'reload-failed'; id: number; error: string }
  | ({ type: 'cancel'; to: number | 'others' } & CancelMessage)
  | { type: 'report'; id: number; report: WorkerReport }
  /** A session of the worker saw `member` contradict the snapshot: the primary's follower looks again. */
  | { type: 'doubt'; scope: string; member: string; why: string }
  | Notice;

const TO_WORKER: ReadonlySet<string> = new Set(['start', 'snapshot', 'reload', 'cancel', 'report', 'drain']);
const FROM_WORKER: ReadonlySet<string> = new Set(['hello', 'ready', 'failed', 'reloaded', 'reload-failed', 'cancel', 'report', 'notice', 'doubt']);
const NOTICES: ReadonlySet<string> = new Set<NoticeName>(['sessionStarted', 'fenced', 'refused', 'holdEnded', 'sessionPinned', 'sessionMoved', 'sessionNotMoved']);

const typeOf = (message: unknown): string | undefined =>
  typeof message === 'object' && message !== null && 'type' in message && typeof message.type === 'string' ? message.type : undefined;

/** Only our own processes are on the channel; this keeps anything else a library might send out. */
export function isToWorker(message: unknown): message is ToWorker {
  const type = typeOf(message);
  return type !== undefined && TO_WORKER.has(type);
}

export function isFromWorker(message: unknown): message is FromWorker {
  const type = typeOf(message);
  if (type === undefined || !FROM_WORKER.has(type)) return false;
  return type !== 'notice' || (typeof message === 'object' && message !== null && 'name' in message && typeof message.name === 'string' && NOTICES.has(message.name));
}

/** Hands a notice to the observer hook it names. */
export function deliverNotice(notice: Notice, observers: ProxyEvents): void {
  (observers[notice.name] as (event: Notice['event']) => void).call(observers, notice.event);
}
