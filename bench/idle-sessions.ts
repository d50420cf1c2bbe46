import pg from 'pg';
import { readTreeUsage } from './process-usage.js';

export interface IdleSessionsReading {
  rssBeforeKb: number;
  rssWithSessionsKb: number;
  cpuSecondsToOpen: number;
  /** Processes of the proxy the RSS is summed over (workers). */
  processes: number;
  opened: number;
  errors: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens `count` node-postgres sessions through a proxy (at most `parallel` connecting at once),
 * lets them sit idle, reads the RSS and CPU of the proxy's processes together, then closes them all.
 */
export async function measureIdleSessions(
  proxyPid: number,
  target: { host: string; port: number; user: string; database: string },
  count: number,
  parallel = 25,
): Promise<IdleSessionsReading> {
  const before = readTreeUsage(proxyPid);
  const clients: pg.Client[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  const openOne = async (): Promise<void> => {
    while (next < count) {
      next++;
      const client = new pg.Client({ ...target, connectionTimeoutMillis: 15_000, application_name: 'bench-idle' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        clients.push(client);
      } catch (error) {
        const message = (error as Error).message;
        errors.set(message, (errors.get(message) ?? 0) + 1);
        await client.end().catch(() => undefined);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, openOne));
    // Let allocations settle (GC, buffers of the last startups) before reading.
    await sleep(2000);
    const withSessions = readTreeUsage(proxyPid);
    return {
      rssBeforeKb: before.rssKb,
      rssWithSessionsKb: withSessions.rssKb,
      cpuSecondsToOpen: withSessions.cpuSeconds - before.cpuSeconds,
      processes: withSessions.processes,
      opened: clients.length,
      errors: [...errors].map(([message, n]) => `${n}× ${message}`),
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
