import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { EventLog } from '../observe/event-log.js';
import type { FailoverEpisode } from '../observe/failover-timeline.js';
import type { ClusterState } from '../topology/cluster-state.js';
import type { AdminContext } from './admin-context.js';
import { bearerTokenMatches } from './bearer-token.js';
import { STATUS_PAGE_HTML } from './status-page.js';
import { topologyReport, type TopologyReport } from './topology-report.js';

/** What the admin server needs of the metrics: its exposition and the failover episodes. */
export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
  failoverEpisodes(): Record<string, FailoverEpisode | undefined>;
}

export interface AdminServerOptions {
  context: AdminContext;
  metrics: MetricsSource;
  events: EventLog;
  logger: Logger;
  now?: () => number;
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` });
const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n` });

/** Paths served without the token: liveness, and the status page shell (it holds no data; it asks for the token). */
const OPEN_PATHS = new Set(['/health', '/', '/index.html']);

/**
 * The admin HTTP API: /health, /ready, /metrics, /topology, /events, /status.json and the
 * live status page at /. With `admin.token` set, everything but /health and the page shell
 * needs `Authorization: Bearer <token>`; the token is read per request so a reload applies.
 */
export class AdminServer {
  private server: http.Server | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: AdminServerOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ component: 'admin' });
  }

  /** Binds `admin.host:admin.port` (port 0 picks a free one, see `port`). */
  async start(): Promise<void> {
    if (this.server !== undefined) throw new Error('AdminServer already started');
    const { host, port } = this.options.context.config().admin;
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`admin HTTP server cannot listen on ${host}:${port}: ${err.message}`));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error({ err: err.message }, 'admin server error'));
        resolve();
      });
    }).catch((err: unknown) => {
      this.server = undefined;
      throw err;
    });
    this.log.info({ host, port: this.port }, 'admin HTTP server listening');
  }

  /** The bound port; undefined before start. */
  get port(): number | undefined {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? (address as AddressInfo).port : undefined;
  }

  /** Base URL of the bound server, e.g. http://127.0.0.1:7000 */
  get url(): string | undefined {
    const port = this.port;
    if (port === undefined) return undefined;
    const host = this.options.context.config().admin.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `http://${shown}:${port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The /topology document (also used by the status page's /status.json); with workers, their sessions summed. */
  async topology(): Promise<TopologyReport> {
    const ctx = this.options.context;
    const [sessions, workers] = await Promise.all([ctx.sessions(), ctx.workers?.()]);
    const config = ctx.config();
    const feeds = ctx.feeds();
    const states = new Map<string, ClusterState | undefined>();
    for (const [scope, feed] of feeds) states.set(scope, feed.current());
    return topologyReport({
      now: this.now(),
      ready: ctx.ready(),
      clusters: config.clusters.map((c) => ({ scope: c.scope, namespace: c.namespace })),
      listenerConfigs: config.listeners,
      states,
      dcs: ctx.dcsHealth(),
      listeners: ctx.listeners(),
      sessions,
      failovers: this.options.metrics.failoverEpisodes(),
      ...(workers !== undefined ? { workers } : {}),
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err), path: req.url }, 'admin request failed');
      reply = text(500, 'internal error; see the router log');
    }
    res.writeHead(reply.status, { 'Content-Type': reply.type, 'Cache-Control': 'no-store', ...reply.headers });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  private async route(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') return { ...text(405, 'only GET and HEAD'), headers: { Allow: 'GET, HEAD' } };
    const token = this.options.context.config().admin.token;
    if (token !== undefined && token !== '' && !OPEN_PATHS.has(url.pathname) && !bearerTokenMatches(req.headers.authorization, token)) {
      return { ...json(401, { error: 'this endpoint needs Authorization: Bearer <admin token>' }), headers: { 'WWW-Authenticate': 'Bearer realm="patroni-router"' } };
    }
    switch (url.pathname) {
      case '/health':
        return text(200, 'alive');
      case '/ready': {
        const ready = this.options.context.ready();
        return json(ready ? 200 : 503, { ready });
      }
      case '/metrics':
        return { status: 200, type: this.options.metrics.contentType, body: await this.options.metrics.text() };
      case '/topology':
        return json(200, await this.topology());
      case '/events':
        return json(200, { events: this.options.events.recent(limitParam(url, 500)) });
      case '/status.json':
        return json(200, { topology: await this.topology(), events: this.options.events.recent(limitParam(url, 100)) });
      case '/':
      case '/index.html':
        return {
          status: 200,
          type: 'text/html; charset=utf-8',
          body: STATUS_PAGE_HTML,
          headers: { 'Content-Security-Policy': "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:" },
        };
      default:
        return json(404, { error: `no such endpoint ${url.pathname}`, endpoints: ['/', '/health', '/ready', '/metrics', '/topology', '/events', '/status.json'] });
    }
  }
}

function limitParam(url: URL, fallback: number): number {
  const raw = url.searchParams.get('limit');
  const n = raw === null ? fallback : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 10_000) : fallback;
}
