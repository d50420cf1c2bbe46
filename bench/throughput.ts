import { runPgbench, type PgbenchTarget } from './pgbench-runner.js';
import { UsageSampler } from './process-usage.js';
import type { ChurnRun, Endpoint, ThroughputRun, Workload } from './results.js';
import { rotatedOrder } from './rotation.js';

/** An endpoint pgbench can aim at, and the proxy process behind it (none for direct). */
export interface MeasuredEndpoint {
  endpoint: Endpoint;
  target: PgbenchTarget;
  proxyPid?: number;
}

export const WORKLOAD_ARGS: Record<Workload, string[]> = {
  'select-simple': ['-S', '-M', 'simple'],
  'select-prepared': ['-S', '-M', 'prepared'],
  tpcb: ['-M', 'simple'],
};

export interface ThroughputPlan {
  workloads: readonly Workload[];
  clients: readonly number[];
  threads: number;
  seconds: number;
  repetitions: number;
  logDir: string;
}

/**
 * Every (workload, clients) cell runs once per endpoint per repetition, endpoints in rotating
 * order, so noise on this shared machine lands on all of them alike.
 */
export async function measureThroughput(endpoints: readonly MeasuredEndpoint[], plan: ThroughputPlan, progress: (line: string) => void): Promise<ThroughputRun[]> {
  const runs: ThroughputRun[] = [];
  for (let repetition = 0; repetition < plan.repetitions; repetition++) {
    // Counted within the repetition: a count over all of them (repetition + cells so far) gave
    // a cell the same shift in every repetition whenever the cells per repetition plus one were
    // a multiple of the endpoints (4 cells, 5 endpoints), so its order never rotated.
    let cell = 0;
    for (const workload of plan.workloads) {
      for (const clients of plan.clients) {
        for (const e of rotatedOrder(endpoints, repetition + cell++)) {
          const sampler = e.proxyPid === undefined ? undefined : new UsageSampler(e.proxyPid);
          let run: ThroughputRun;
          try {
            const result = await runPgbench(e.target, {
              args: WORKLOAD_ARGS[workload],
              seconds: plan.seconds,
              clients,
              threads: plan.threads,
              logDir: plan.logDir,
              label: `${workload}-${clients}-${e.endpoint}-${repetition}`,
            });
            run = {
              workload,
              clients,
              endpoint: e.endpoint,
              repetition,
              tps: result.tps,
              latencyAverageMs: result.latencyAverageMs,
              p99Ms: result.p99Ms ?? Number.NaN,
              transactions: result.transactions,
              failedTransactions: result.failedTransactions,
              errors: result.errors,
            };
          } catch (error) {
            run = {
              workload,
              clients,
              endpoint: e.endpoint,
              repetition,
              tps: Number.NaN,
              latencyAverageMs: Number.NaN,
              p99Ms: Number.NaN,
              transactions: 0,
              failedTransactions: 0,
              errors: [(error as Error).message.slice(0, 500)],
            };
          }
          const usage = sampler?.stop();
          if (usage) run.proxy = usage;
          runs.push(run);
          progress(
            `  ${workload} c=${clients} ${e.endpoint.padEnd(7)} rep ${repetition}: ${run.tps.toFixed(0)} tps, avg ${run.latencyAverageMs.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms` +
              (usage ? `, proxy ${usage.cpuSeconds.toFixed(2)} CPU s, ${(usage.peakRssKb / 1024).toFixed(1)} MB` : '') +
              (run.errors.length ? `  ERRORS: ${run.errors[0]}` : ''),
          );
        }
      }
    }
  }
  return runs;
}

/** pgbench -C -S: every transaction on a new connection, so tps = new connections per second. */
export async function measureChurn(
  endpoints: readonly MeasuredEndpoint[],
  plan: { seconds: number; repetitions: number; clients: number; threads: number },
  progress: (line: string) => void,
): Promise<ChurnRun[]> {
  const runs: ChurnRun[] = [];
  for (let repetition = 0; repetition < plan.repetitions; repetition++) {
    for (const e of rotatedOrder(endpoints, repetition)) {
      let run: ChurnRun;
      try {
        const result = await runPgbench(e.target, {
          args: ['-C', '-S'],
          seconds: plan.seconds,
          clients: plan.clients,
          threads: plan.threads,
          label: `churn-${e.endpoint}-${repetition}`,
        });
        run = {
          endpoint: e.endpoint,
          repetition,
          clients: plan.clients,
          connectionsPerSecond: result.tps,
          averageConnectionMs: result.connectionTimeMs ?? Number.NaN,
          errors: result.errors,
        };
      } catch (error) {
        run = {
          endpoint: e.endpoint,
          repetition,
          clients: plan.clients,
          connectionsPerSecond: Number.NaN,
          averageConnectionMs: Number.NaN,
          errors: [(error as Error).message.slice(0, 500)],
        };
      }
      runs.push(run);
      progress(
        `  churn ${e.endpoint.padEnd(7)} rep ${repetition}: ${run.connectionsPerSecond.toFixed(0)} connections/s, connect ${run.averageConnectionMs.toFixed(3)} ms${run.errors.length ? `  ERRORS: ${run.errors[0]}` : ''}`,
      );
    }
  }
  return runs;
}
