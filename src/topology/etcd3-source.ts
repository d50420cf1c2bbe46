import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions, type IKeyValue, type IWatchResponse, type Watcher } from 'etcd3';
import type { Logger } from 'pino';
import type { EtcdAccess } from '../config/types.js';
import { relativeKey } from './scope-prefix.js';
import { pause, reconnectDelay } from './reconnect-backoff.js';
import type { KeyEvent, TopologySink, TopologySource } from './topology-source.js';

export interface Etcd3SourceOptions {
  access: EtcdAccess;
  /** e.g. `/service/batman/` */
  prefix: string;
  resyncIntervalMs: number;
  /** Deadline for one range read. */
  readTimeoutMs?: number;
  logger: Logger;
}

type FaultPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['host']>;

/**
 * etcd3's default per-host circuit breaker refuses calls for 5 s after three failures, which
 * would delay our re-read after an etcd restart; we run our own backoff instead, so every call
 * goes straight through. Only `execute` is used by etcd3's connection pool.
 * Async on purpose: etcd3's markFailed() rethrows inside execute() and only catches a rejection.
 */
const passThrough = { execute: async (fn: (ctx: unknown) => unknown) => fn({ signal: new AbortController().signal }) } as unknown as ReturnType<FaultPolicy>;

/** Client options for ONE endpoint: the source moves between endpoints itself. */
export function etcd3ClientOptions(access: EtcdAccess, endpoint: string): IOptions {
  const options: IOptions = {
    hosts: [endpoint],
    dialTimeout: 3000,
    faultHandling: { host: () => passThrough, global: passThrough },
    // Notice a silently dead connection (no RST) instead of waiting on it forever.
    // and reconnect quickly once etcd is back (grpc-js otherwise backs off up to two minutes).
    grpcOptions: {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5000,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
    },
  };
  if (access.username !== undefined) options.auth = { username: access.username, password: access.password ?? '' };
  if (access.cacert !== undefined) {
    options.credentials = { rootCertificate: readFileSync(access.cacert) };
    if (access.cert !== undefined) options.credentials.certChain = readFileSync(access.cert);
    if (access.key !== undefined) options.credentials.privateKey = readFileSync(access.key);
  }
  return options;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Follows a cluster prefix on etcd v3: one range read, then a watch from that read's revision
 * + 1 so no event falls in between. A broken watch, a compacted revision or an etcd restart
 * leads to a fresh read (with backoff, moving on to the next endpoint) and a new watch.
 * Every `resyncIntervalMs` the prefix is read again as a safety net.
 */
export class Etcd3Source implements TopologySource {
  private readonly stopping = new AbortController();
  /** One client per endpoint, made on first use; `endpointIndex` says which is in use. */
  private readonly clients = new Map<number, Etcd3>();
  private endpointIndex = 0;
  private loop: Promise<void> | undefined;
  /** Highest revision already applied (read or event), so stale events after a re-read are skipped. */
  private appliedRevision = 0;

  constructor(private readonly opts: Etcd3SourceOptions) {}

  start(sink: TopologySink): void {
    if (this.loop !== undefined) throw new Error('Etcd3Source already started');
    if (this.opts.access.endpoints.length === 0) throw new Error('etcd3 source needs at least one endpoint');
    this.loop = this.run(sink);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    for (const client of this.clients.values()) client.close();
  }

  private client(): Etcd3 {
    const index = this.endpointIndex % this.opts.access.endpoints.length;
    let client = this.clients.get(index);
    if (client === undefined) {
      client = new Etcd3(etcd3ClientOptions(this.opts.access, this.opts.access.endpoints[index]!));
      this.clients.set(index, client);
    }
    return client;
  }

  private async run(sink: TopologySink): Promise<void> {
    sink.status('connecting');
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      const client = this.client();
      try {
        const revision = await this.readAll(client, sink);
        sink.status('connected');
        attempt = 0;
        const reason = await this.watchUntilBroken(client, sink, revision);
        if (this.stopping.signal.aborted) break;
        this.opts.logger.warn({ prefix: this.opts.prefix, reason }, 'etcd watch broken; re-reading the prefix');
        sink.status('reconnecting', reason);
        this.endpointIndex++;
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        this.opts.logger.warn(
          { prefix: this.opts.prefix, endpoint: this.opts.access.endpoints[this.endpointIndex % this.opts.access.endpoints.length], err: errorText(err), attempt },
          'etcd read failed; trying the next endpoint',
        );
        sink.status('reconnecting', errorText(err));
        this.endpointIndex++;
        await pause(reconnectDelay(attempt++), this.stopping.signal);
      }
    }
    sink.status('stopped');
  }

  /** Reads the whole prefix, hands it over as a snapshot, returns the read's revision. */
  private async readAll(client: Etcd3, sink: TopologySink): Promise<number> {
    const response = await client
      .getAll()
      .prefix(this.opts.prefix)
      .options({ deadline: Date.now() + (this.opts.readTimeoutMs ?? 5000) })
      .exec();
    const revision = Number(response.header.revision);
    if (revision >= this.appliedRevision) {
      const keys = new Map<string, string>();
      for (const kv of response.kvs) {
        const key = relativeKey(this.opts.prefix, kv.key.toString());
        if (key !== undefined) keys.set(key, kv.value.toString());
      }
      this.appliedRevision = revision;
      sink.update({ kind: 'snapshot', keys });
    }
    return revision;
  }

  /** Watches from `revision + 1`; resolves with a reason when the watch can no longer be trusted. */
  private watchUntilBroken(client: Etcd3, sink: TopologySink, revision: number): Promise<string> {
    return new Promise<string>((resolve) => {
      let watcher: Watcher | undefined;
      let finished = false;
      const finish = (reason: string): void => {
        if (finished) return;
        finished = true;
        clearInterval(resync);
        this.stopping.signal.removeEventListener('abort', onStop);
        if (watcher !== undefined) {
          watcher.removeAllListeners();
          watcher.on('error', () => undefined);
          // Not connected: etcd3 just drops it. Connected: a cancel request; we do not wait for it.
          watcher.cancel().catch(() => undefined);
        }
        resolve(reason);
      };
      const onStop = (): void => finish('stopped');
      this.stopping.signal.addEventListener('abort', onStop, { once: true });

      // The safety-net re-read runs beside the live watch; revisions keep the two in order.
      const resync = setInterval(() => {
        this.readAll(client, sink).catch((err: unknown) => finish(`periodic re-read failed: ${errorText(err)}`));
      }, this.opts.resyncIntervalMs);
      resync.unref();

      // watcher() (not create()) so our listeners are attached before any 'error' can fire.
      const w = client
        .watch()
        .prefix(this.opts.prefix)
        .startRevision(String(revision + 1))
        .watcher();
      watcher = w;
      w.on('data', (res: IWatchResponse) => this.onWatchResponse(res, sink));
      w.on('disconnected', (err: Error) => finish(`watch disconnected: ${err.message}`));
      // A compacted start revision or a server-side cancel arrives here.
      w.on('error', (err: Error) => finish(`watch cancelled: ${err.message}`));
      if (this.stopping.signal.aborted) finish('stopped');
    });
  }

  private onWatchResponse(res: IWatchResponse, sink: TopologySink): void {
    if (res.compact_revision !== undefined && Number(res.compact_revision) > 0) return;
    const events: KeyEvent[] = [];
    let highest = this.appliedRevision;
    for (const event of res.events) {
      const kv: IKeyValue = event.kv;
      const revision = Number(kv.mod_revision);
      if (revision <= this.appliedRevision) continue; // already part of a later re-read
      highest = Math.max(highest, revision);
      const key = relativeKey(this.opts.prefix, kv.key.toString());
      if (key === undefined) continue;
      if (event.type === 'Put') events.push({ type: 'put', key, value: kv.value.toString() });
      else events.push({ type: 'delete', key });
    }
    this.appliedRevision = highest;
    if (events.length > 0) sink.update({ kind: 'events', events });
  }
}
