/**
 * A compact per-driver timing table of many scenario runs: for each step the median time over
 * the cells that ran it (cancel: the median latency from cancel to 57014), "n/a" where the
 * driver cannot do the step, and how many cells failed it. The last column is the median
 * wall-clock time of a whole scenario, process start-up included (a JVM per pgjdbc cell).
 */
import { stepOrder, type DriverName, type ScenarioResult, type StepName, type StepResult } from './scenario-types.js';

export interface TimedScenario {
  result: ScenarioResult;
  /** Wall-clock time of the whole runScenario call. */
  wallMs: number;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

function stepCell(step: StepName, results: StepResult[]): string {
  if (results.length === 0) return '-';
  const ok = results.filter((r) => r.ok);
  const failed = results.filter((r) => !r.ok && r.unsupported === undefined).length;
  const times = ok.map((r) => (step === 'cancel' ? (r.latencyMs ?? r.ms) : r.ms));
  const shown = median(times);
  const value = shown === undefined ? (failed > 0 ? '' : 'n/a') : `${shown}`;
  return failed > 0 ? `${value}${value ? ' ' : ''}FAIL x${failed}` : value;
}

export function timingTable(runs: TimedScenario[]): string {
  const drivers = [...new Set(runs.map((r) => r.result.driver))];
  const header = ['driver', 'cells', ...stepOrder.map((s) => (s === 'cancel' ? 'cancel (latency)' : s)), 'scenario'];
  const rows = drivers.map((driver: DriverName) => {
    const mine = runs.filter((r) => r.result.driver === driver);
    const steps = stepOrder.map((step) =>
      stepCell(
        step,
        mine.flatMap((r) => r.result.steps.filter((s) => s.step === step)),
      ),
    );
    return [driver, String(mine.length), ...steps, `${median(mine.map((r) => r.wallMs)) ?? '-'}`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line), 'ms, median over cells; cancel: from the cancel to 57014; n/a: the driver cannot do it natively'].join('\n');
}
