import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RouterConfig } from '../config/types.js';
import { createLogger } from '../observe/logger.js';
import { fanOutProxyEvents } from '../observe/proxy-event-fanout.js';
import { ProxyMetrics } from '../observe/proxy-metrics.js';
import { sessionLog } from '../observe/session-log.js';
import type { CancelPeers } from '../proxy/cancel-forwarding.js';
import type { CancelKey } from '../proxy/cancel-registry.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import type { CancelMessage, FromWorker, ToWorker, WorkerReport } from './messages.js';
import { RelayedFeed } from './relayed-feed.js';
import { workerNotices } from './worker-notices.js';

type StartMessage = Extract<ToWorker, { type: 'start' }>;

/** Why a worker's views go stale when its channel to the primary closes. */
export const PRIMARY_LOST = "the router's primary process is gone, its channel to this worker closed";

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const keyOf = (m: CancelMessage): CancelKey => ({ processId: m.processId, secret: Buffer.from(m.secret, 'hex') });

/**
 * A worker process: it runs the listeners (a ProxyServer) and relays, and nothing else. Its
 * topology comes from the primary process as snapshots (RelayedFeed); it loads no etcd client,
 * REST prober or admin server, so node's stream code in it sees only the relay's sockets (the
 * per-chunk cost measured in bench/relay-prototypes). It reports its sessions and metrics when
 * asked, forwards the events the primary's observers need, and hands cancels for other
 * workers' keys to the primary. I/O is passed in: `send` to the primary, `exit` to leave.
 */
export class RelayWorker {
  private proxy: ProxyServer | undefined;
  private readonly feeds = new Map<string, RelayedFeed>();
  private readonly registry = new Registry();
  private config: RouterConfig | undefined;
  private log: Logger | undefined;
  private reloads: Promise<void> = Promise.resolve();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly send: (message: FromWorker) => void,
    private readonly exit: (code: number) => void,
  ) {}

  /** Every message from the primary, in the order it sent them. */
  handle(message: ToWorker): void {
    switch (message.type) {
      case 'start':
        void this.start(message);
        return;
      case 'snapshot':
        this.feeds.get(message.scope)?.apply(message);
        return;
      case 'reload':
        this.reloads = this.reloads.then(() => this.reload(message.id, message.config));
        return;
      case 'cancel':
        this.proxy?.cancelFromPeer(message.listener, keyOf(message), message.reach);
        return;
      case 'report':
        void this.report(message.id, message.metrics);
        return;
      case 'drain':
        void this.drain(message.timeoutMs);
        return;
    }
  }

  /**
   * The channel to the primary closed (it died, or the pipe broke): no more snapshots will come,
   * so every view goes stale with no writable primary (write sessions are fenced, new ones held
   * then refused), and the worker drains: it stops accepting, lets read sessions finish within
   * drain_timeout, and exits. Nothing would restart it or tell it of a switchover.
   */
  primaryLost(): void {
    for (const feed of this.feeds.values()) feed.lose(PRIMARY_LOST);
    this.log?.error({ reason: PRIMARY_LOST }, 'primary process lost: views stale, writes refused, draining');
    void this.drain(this.config?.drainTimeoutMs ?? 0);
  }

  /** SIGTERM or SIGINT sent to the worker itself (systemd signals every process of the unit). */
  drainOnSignal(signal: string): void {
    this.log?.info({ signal }, 'draining');
    void this.drain(this.config?.drainTimeoutMs ?? 0);
  }

  private async start(message: StartMessage): Promise<void> {
    if (this.config !== undefined) return;
    const config = (this.config = message.config);
    const log = (this.log = createLogger({ level: config.log.level, ...(message.logFormat !== undefined ? { format: message.logFormat } : {}) }).child({ worker: message.index }));
    for (const cluster of config.clusters) {
      const scope = cluster.scope;
      const onError = (err: unknown): void => log.error({ cluster: scope, err: errorText(err) }, 'cluster state listener failed');
      this.feeds.set(scope, new RelayedFeed(scope, onError, (member, why) => this.send({ type: 'doubt', scope, member, why })));
    }
    for (const snapshot of message.snapshots) this.feeds.get(snapshot.scope)?.apply(snapshot);
    collectDefaultMetrics({ register: this.registry });
    const metrics = new ProxyMetrics({
      registry: this.registry,
      sessions: () => this.proxy?.sessions() ?? [],
      classifiers: () => this.proxy?.classifierCounters() ?? [],
      membersOf: (cluster) =>
        this.feeds
          .get(cluster)
          ?.current()
          ?.members.map((m) => m.name) ?? [],
    });
    const clusterOf = (listener: string): string | undefined => this.config?.listeners.find((l) => l.name === listener)?.cluster;
    const notices = workerNotices(
      (notice) => this.send(notice),
      (listener) => {
        const cluster = clusterOf(listener);
        return cluster === undefined ? undefined : this.feeds.get(cluster)?.current()?.generation;
      },
    );
    const peers: CancelPeers = {
      index: message.index,
      count: message.count,
      toOwner: (to, listener, key) => this.send({ type: 'cancel', to, listener, processId: key.processId, secret: key.secret.toString('hex') }),
      toOthers: (listener, key) => this.send({ type: 'cancel', to: 'others', listener, processId: key.processId, secret: key.secret.toString('hex') }),
    };
    const proxy = new ProxyServer({
      listeners: config.listeners,
      tls: config.tls,
      startupTimeoutMs: config.startupTimeoutMs,
      authenticationTimeoutMs: config.authenticationTimeoutMs,
      targetParameterPrefix: config.targetParameterPrefix,
      ...(config.auth !== undefined ? { auth: config.auth } : {}),
      feeds: this.feeds,
      logger: log,
      events: fanOutProxyEvents([sessionLog(log), metrics, notices]),
      cancelPeers: peers,
    });
    try {
      await proxy.start();
    } catch (err) {
      log.fatal({ err: errorText(err) }, 'worker could not start');
      this.send({ type: 'failed', error: errorText(err) });
      this.exit(1);
      return;
    }
    this.proxy = proxy;
    log.info({ pid: process.pid, listeners: proxy.listeners().map((l) => `${l.name} ${l.host}:${l.port}`) }, 'worker started');
    this.send({ type: 'ready', listeners: proxy.listeners() });
  }

  /** As a single-process router reloads its listeners (the primary replaced followers itself). */
  private async reload(id: number, next: RouterConfig): Promise<void> {
    const proxy = this.proxy;
    if (proxy === undefined) {
      this.send({ type: 'reload-failed', id, error: 'the worker has not started' });
      return;
    }
    try {
      const changes = await proxy.applyListeners(next.listeners);
      this.config = next;
      if (this.log !== undefined) this.log.level = next.log.level;
      this.send({ type: 'reloaded', id, changes, listeners: proxy.listeners() });
    } catch (err) {
      this.send({ type: 'reload-failed', id, error: errorText(err) });
    }
  }

  private async report(id: number, withMetrics: boolean): Promise<void> {
    const proxy = this.proxy;
    const report: WorkerReport = { listeners: proxy?.listeners() ?? [], sessions: proxy?.sessions() ?? [], cancelKeys: proxy?.cancelKeyCount() ?? 0 };
    if (withMetrics) report.metrics = await this.registry.getMetricsAsJSON();
    this.send({ type: 'report', id, report });
  }

  /** Stops accepting, lets sessions finish for up to `timeoutMs`, closes the rest with 57P01, then exits. */
  private drain(timeoutMs: number): Promise<void> {
    this.draining ??= (async () => {
      try {
        await this.proxy?.drain(timeoutMs);
        this.log?.info('worker stopped');
      } catch (err) {
        this.log?.error({ err: errorText(err) }, 'drain failed');
      }
      this.exit(0);
    })();
    return this.draining;
  }
}
