/** The router's admin API as the chaos run reads it: /metrics, /topology and status codes, with the bearer token. */
import type { TopologyReport } from '../../src/admin/topology-report.js';
import { parseMetrics, type MetricSample } from './metrics-text.js';

export class AdminClient {
  constructor(
    private readonly port: number,
    private readonly token: string,
  ) {}

  private async get(pathname: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${pathname}`, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(5_000) });
  }

  async status(pathname: string): Promise<number> {
    try {
      const answer = await this.get(pathname);
      await answer.arrayBuffer();
      return answer.status;
    } catch {
      return 0;
    }
  }

  async metrics(): Promise<MetricSample[]> {
    const answer = await this.get('/metrics');
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    return parseMetrics(await answer.text());
  }

  async topology(): Promise<TopologyReport> {
    const answer = await this.get('/topology');
    if (answer.status !== 200) throw new Error(`GET /topology answered ${answer.status}`);
    return (await answer.json()) as TopologyReport;
  }

  /** The writable primary the router knows now, if any. */
  async writablePrimary(): Promise<string | undefined> {
    return (await this.topology()).clusters[0]?.state?.writablePrimary;
  }
}
