import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { Logger } from 'pino';
import type { EtcdAccess } from '../config/types.js';
import { relativeKey } from './scope-prefix.js';
import { pause, reconnectDelay } from './reconnect-backoff.js';
import type { KeyEvent, TopologySink, TopologySource } from './topology-source.js';

export interface Etcd2SourceOptions {
  access: EtcdAccess;
  /** e.g. `/service/batman/` */
  prefix: string;
  resyncIntervalMs: number;
  readTimeoutMs?: number;
  logger: Logger;
}

interface V2Node {
  key?: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  modifiedIndex?: number;
}

interface V2Answer {
  action?: string;
  node?: V2Node;
  errorCode?: number;
  message?: string;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Every leaf under a v2 directory node, keys relative to the prefix. */
export function flattenV2(node: V2Node | undefined, prefix: string, into = new Map<string, string>()): Map<string, string> {
  if (node === undefined) return into;
  if (node.dir) for (const child of node.nodes ?? []) flattenV2(child, prefix, into);
  else if (node.key !== undefined && node.value !== undefined) {
    const key = relativeKey(prefix, node.key);
    if (key !== undefined) into.set(key, node.value);
  }
  return into;
}

/** A v2 watch answer as key events; undefined when only a re-read can say what happened (a directory went away). */
export function v2Event(answer: V2Answer, prefix: string): KeyEvent[] | undefined {
  const node = answer.node;
  if (node?.key === undefined) return [];
  if (node.dir) return answer.action === 'set' || answer.action === 'create' || answer.action === 'update' ? [] : undefined;
  const key = relativeKey(prefix, node.key);
  if (key === undefined) return [];
  switch (answer.action) {
    case 'set':
    case 'create':
    case 'update':
    case 'compareAndSwap':
      return [{ type: 'put', key, value: node.value ?? '' }];
    case 'delete':
    case 'expire':
    case 'compareAndDelete':
      return [{ type: 'delete', key }];
    default:
      return undefined;
  }
}

/** The history etcd v2 keeps (1000 events) has moved past our index: re-read. */
class IndexCleared extends Error {}

/**
 * Follows a cluster prefix on etcd v2 (Patroni's `etcd:`): a recursive GET, then long-polls
 * with `waitIndex` = X-Etcd-Index + 1, then each event's modifiedIndex + 1, so nothing falls
 * between. `EventIndexCleared`, errors and etcd restarts lead to a re-read on the next endpoint
 * (with backoff); every `resyncIntervalMs` the poll is cut short and the prefix re-read.
 */
export class Etcd2Source implements TopologySource {
  private readonly stopping = new AbortController();
  private readonly dispatcher: Agent;
  private readonly headers: Record<string, string> = {};
  private readonly dirPath: string;
  private loop: Promise<void> | undefined;
  private endpointIndex = 0;

  constructor(private readonly opts: Etcd2SourceOptions) {
    const tls =
      opts.access.cacert === undefined && opts.access.cert === undefined
        ? undefined
        : {
            ...(opts.access.cacert === undefined ? {} : { ca: readFileSync(opts.access.cacert) }),
            ...(opts.access.cert === undefined ? {} : { cert: readFileSync(opts.access.cert) }),
            ...(opts.access.key === undefined ? {} : { key: readFileSync(opts.access.key) }),
          };
    this.dispatcher = new Agent({ connect: { timeout: 3000, ...(tls ?? {}) }, keepAliveTimeout: 30_000 });
    if (opts.access.username !== undefined) {
      const token = Buffer.from(`${opts.access.username}:${opts.access.password ?? ''}`).toString('base64');
      this.headers.authorization = `Basic ${token}`;
    }
    this.dirPath = opts.prefix.replace(/\/+$/, '');
  }

  start(sink: TopologySink): void {
    if (this.loop !== undefined) throw new Error('Etcd2Source already started');
    this.loop = this.run(sink);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.dispatcher.close().catch(() => undefined);
  }

  private endpoint(): string {
    const list = this.opts.access.endpoints;
    return list[this.endpointIndex % list.length]!.replace(/\/+$/, '');
  }

  private async run(sink: TopologySink): Promise<void> {
    sink.status('connecting');
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      try {
        const index = await this.readAll(sink);
        sink.status('connected');
        attempt = 0;
        await this.pollUntilResync(sink, index + 1);
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        if (err instanceof IndexCleared) {
          this.opts.logger.info({ prefix: this.opts.prefix }, 'etcd v2 event history moved on; re-reading the prefix');
          continue;
        }
        this.opts.logger.warn({ prefix: this.opts.prefix, endpoint: this.endpoint(), err: errorText(err), attempt }, 'etcd v2 read or watch failed; retrying');
        sink.status('reconnecting', errorText(err));
        this.endpointIndex++;
        await pause(reconnectDelay(attempt++), this.stopping.signal);
      }
    }
    sink.status('stopped');
  }

  private async get(query: string, signal: AbortSignal): Promise<{ status: number; index: number; answer: V2Answer }> {
    const url = `${this.endpoint()}/v2/keys${this.dirPath}?${query}`;
    const res = await request(url, { method: 'GET', headers: this.headers, dispatcher: this.dispatcher, signal, headersTimeout: 0, bodyTimeout: 0 });
    const text = await res.body.text();
    let answer: V2Answer;
    try {
      answer = JSON.parse(text) as V2Answer;
    } catch {
      throw new Error(`etcd v2 answered ${res.statusCode} with non-JSON: ${text.slice(0, 100)}`);
    }
    const header = res.headers['x-etcd-index'];
    const index = Number(Array.isArray(header) ? header[0] : header);
    return { status: res.statusCode, index, answer };
  }

  private async readAll(sink: TopologySink): Promise<number> {
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.opts.readTimeoutMs ?? 5000)]);
    const { status, index, answer } = await this.get('recursive=true', signal);
    if (!Number.isSafeInteger(index)) throw new Error(`etcd v2 answer without X-Etcd-Index (status ${status})`);
    if (status === 404 && answer.errorCode === 100) {
      sink.update({ kind: 'snapshot', keys: new Map() }); // the cluster has no keys yet
      return index;
    }
    if (status !== 200) throw new Error(`etcd v2 read answered ${status}: ${answer.message ?? ''}`);
    sink.update({ kind: 'snapshot', keys: flattenV2(answer.node, this.opts.prefix) });
    return index;
  }

  /** Long-polls from `waitIndex` until the resync interval is over (then returns) or an error. */
  private async pollUntilResync(sink: TopologySink, firstIndex: number): Promise<void> {
    const resync = AbortSignal.timeout(this.opts.resyncIntervalMs);
    const signal = AbortSignal.any([this.stopping.signal, resync]);
    let waitIndex = firstIndex;
    while (!signal.aborted) {
      let answer: V2Answer;
      let status: number;
      try {
        ({ answer, status } = await this.get(`wait=true&recursive=true&waitIndex=${waitIndex}`, signal));
      } catch (err) {
        if (signal.aborted) return; // resync due or stopping: not an error
        throw err;
      }
      if (answer.errorCode === 401) throw new IndexCleared(answer.message ?? 'EventIndexCleared');
      if (status !== 200 && status !== 201) throw new Error(`etcd v2 watch answered ${status}: ${answer.message ?? ''}`);
      const modified = answer.node?.modifiedIndex;
      if (modified === undefined) throw new Error('etcd v2 watch answer without modifiedIndex');
      waitIndex = modified + 1;
      const events = v2Event(answer, this.opts.prefix);
      if (events === undefined) return; // a directory changed as a whole: re-read
      sink.update({ kind: 'events', events });
    }
  }
}
