import type { Logger } from 'pino';
import type { RestTls } from '../config/types.js';
import { parseClusterView } from './parse-rest-answers.js';
import { getPatroniJson, restAgent } from './rest-client.js';
import type { TopologySink, TopologySource } from './topology-source.js';

export interface RestClusterSourceOptions {
  /** Patroni API base URLs; the first that answers is used each round. */
  urls: string[];
  intervalMs: number;
  timeoutMs: number;
  /** When the APIs serve HTTPS. */
  tls?: RestTls;
  logger: Logger;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * REST-only mode for clusters whose DCS the router cannot reach: polls `GET /cluster` on the
 * configured Patroni APIs. Slower than a watch (one interval of delay) but needs no etcd access.
 */
export class RestClusterSource implements TopologySource {
  private readonly agent;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private connected = false;
  private preferred = 0;

  constructor(private readonly opts: RestClusterSourceOptions) {
    if (opts.urls.length === 0) throw new Error('REST-only cluster source needs at least one Patroni API URL');
    this.agent = restAgent(opts.timeoutMs, opts.tls);
  }

  start(sink: TopologySink): void {
    sink.status('connecting');
    const round = (): void => {
      if (this.busy || this.stopping.signal.aborted) return;
      this.busy = true;
      this.poll(sink).finally(() => (this.busy = false));
    };
    this.timer = setInterval(round, Math.max(100, this.opts.intervalMs));
    this.timer.unref();
    round();
  }

  private async poll(sink: TopologySink): Promise<void> {
    const { urls } = this.opts;
    const errors: string[] = [];
    for (let i = 0; i < urls.length; i++) {
      const index = (this.preferred + i) % urls.length;
      const url = urls[index]!;
      try {
        const body = await getPatroniJson(this.agent, url, '/cluster', this.opts.timeoutMs, this.stopping.signal);
        if (this.stopping.signal.aborted) return;
        this.preferred = index;
        if (!this.connected) sink.status('connected');
        this.connected = true;
        sink.update({ kind: 'parsed', parsed: parseClusterView(body) });
        return;
      } catch (err) {
        errors.push(`${url}: ${errorText(err)}`);
      }
    }
    if (this.stopping.signal.aborted) return;
    if (this.connected) this.opts.logger.warn({ errors }, 'no Patroni REST API answered GET /cluster');
    this.connected = false;
    sink.status('reconnecting', errors.join('; '));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.agent.close().catch(() => undefined);
  }
}
