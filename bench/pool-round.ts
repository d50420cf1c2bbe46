/**
 * The pooled writers of one failover round: a pool per proxy started before the event, the
 * router's move counters read just before the event and after the round, and the pools' requests
 * judged (pool-tally.ts) against the rows the table holds afterwards.
 */
import { httpRequest } from '../test/cluster/http-json.js';
import { parseMoveMetrics, sessionMoves, tallyPool, type MoveReading, type RoundRows } from './pool-tally.js';
import { PooledWriter, type PooledWriterOptions } from './pool-writer.js';
import type { PoolOutcome, PoolProxy } from './results.js';
import type { WriteAttempt } from './write-attempts.js';
import type { WriteTarget } from './writer.js';

/** Where one pool writes: a proxy's primary listener, and for the router the admin API whose /metrics count the moves. */
export interface PoolRoute {
  proxy: PoolProxy;
  target: WriteTarget;
  metrics?: { adminPort: number; listener: string };
}

export interface PoolPlan {
  routes: readonly PoolRoute[];
  options: PooledWriterOptions;
}

/** The `writer` column of a pool's rows. */
export const poolWriterLabel = (proxy: PoolProxy): string => `pool-${proxy}`;

async function readMoves(metrics: NonNullable<PoolRoute['metrics']>): Promise<MoveReading> {
  const answer = await httpRequest('GET', `http://127.0.0.1:${metrics.adminPort}/metrics`, { timeoutMs: 3000 });
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}`);
  return parseMoveMetrics(answer.body, metrics.listener);
}

interface RunningPool {
  route: PoolRoute;
  writer: PooledWriter;
  before?: MoveReading;
  after?: MoveReading;
}

export class RoundPools {
  private readonly pools: RunningPool[];

  constructor(
    private readonly plan: PoolPlan,
    roundId: string,
    private readonly progress: (line: string) => void,
  ) {
    this.pools = plan.routes.map((route) => ({ route, writer: new PooledWriter(poolWriterLabel(route.proxy), route.target, roundId, plan.options) }));
  }

  /** Every pool's connections open, then writing. */
  async start(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.writer.start()));
  }

  /** Each pool's requests, under its proxy's name, for the round's waits for writes and for steadiness. */
  attemptsByPool(): Array<[string, readonly WriteAttempt[]]> {
    return this.pools.map((p) => [poolWriterLabel(p.route.proxy), p.writer.attempts]);
  }

  /** The router's counters just before the event. */
  async beforeEvent(): Promise<void> {
    await Promise.all(this.pools.map(async (p) => (p.before = await this.reading(p))));
  }

  /** Stops every pool, then reads the counters again (a session moved during the round is counted by then). */
  async stop(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.writer.stop()));
    await Promise.all(this.pools.map(async (p) => (p.after = await this.reading(p))));
  }

  /** `rowsOf`: what the table holds for a pool's writer label, undefined when it could not be read. */
  judge(eventAt: number, idleFrom: number, rowsOf: (label: string) => RoundRows | undefined): Partial<Record<PoolProxy, PoolOutcome>> {
    const outcomes: Partial<Record<PoolProxy, PoolOutcome>> = {};
    for (const p of this.pools) {
      const outcome = tallyPool(p.writer.attempts, { eventAt, idleFrom, size: this.plan.options.size, opened: p.writer.opened }, rowsOf(poolWriterLabel(p.route.proxy)));
      if (p.before && p.after) outcome.moves = sessionMoves(p.before, p.after);
      outcomes[p.route.proxy] = outcome;
    }
    return outcomes;
  }

  private async reading(p: RunningPool): Promise<MoveReading | undefined> {
    if (!p.route.metrics) return undefined;
    try {
      return await readMoves(p.route.metrics);
    } catch (error) {
      this.progress(`  could not read the ${p.route.proxy}'s /metrics: ${(error as Error).message}`);
      return undefined;
    }
  }
}
