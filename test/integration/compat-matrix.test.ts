/**
 * The router compatibility matrix (issue 9): patroni x member TLS x REST API x pg_hba x router
 * TLS mode x sslmode x driver x listener. `npm test` runs the all-pairs cells on as few
 * cluster shapes as cover them (grouped-pairwise.ts); `npm run test:matrix` (MATRIX=full) the
 * full product. Each cluster shape is a real 2-member cluster started once for its cells, with
 * a pass-through and a terminating router in this process; each cell one real driver running
 * the whole scenario through one listener, judged against compat-expectation.ts.
 *
 * MATRIX_FILTER=axis=value[|value],... runs a subset (cell-filter.ts). Each cell's result is
 * appended to cells.jsonl in this run's temp dir as it ends (a long run can be followed, and
 * one cut short still leaves what it found); the result table goes to compatibility.md there,
 * and with MATRIX_README=1 to docs/compatibility.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestPostgresBinDir } from '../cluster/index.js';
import { forgetDir, registerDir } from '../cluster/process-registry.js';
import { createSelfSignedCert, type TlsFiles } from '../cluster/tls-cert.js';
import { pgjdbcClasses, runScenario, type ScenarioResult } from '../support/drivers/index.js';
import { parseCellFilter } from '../support/matrix/cell-filter.js';
import { cellName, clusterAxes, clusterName, compatAxes, meaningful, type CompatCell, type RouterTls } from '../support/matrix/compat-axes.js';
import { startCompatCluster, type CompatCluster } from '../support/matrix/compat-cluster.js';
import { expectedOutcome } from '../support/matrix/compat-expectation.js';
import { consoleTable, markdown, type CellRun } from '../support/matrix/compat-report.js';
import { cellProblems } from '../support/matrix/compat-verdict.js';
import { groupCells, groupedPairwise } from '../support/matrix/grouped-pairwise.js';
import { fullProduct } from '../support/matrix/pairwise.js';
import type { RouterUnderTest } from '../support/router-under-test.js';

const full = process.env['MATRIX'] === 'full';
const filterText = process.env['MATRIX_FILTER'] ?? '';
const keep = parseCellFilter(filterText);
const groups = (full ? groupCells(compatAxes, clusterAxes, fullProduct(compatAxes, meaningful)) : groupedPairwise(compatAxes, clusterAxes, meaningful))
  .map((g) => ({ group: g.group, cells: g.cells.filter(keep) }))
  .filter((g) => g.cells.length > 0);
const mode = `${full ? 'full product' : 'pairwise'}${filterText ? `, filtered by ${filterText}` : ''}`;
const docsFile = fileURLToPath(new URL('../../docs/compatibility.md', import.meta.url));

/** The router's log lines from `from` on, one compact line each, for a failing cell's message. */
function routerLog(router: RouterUnderTest, from: number): string {
  const lines = router.logLines().slice(from);
  const shown = lines.slice(-40).map((l) => {
    const rest = Object.fromEntries(Object.entries(l).filter(([k]) => !['level', 'time', 'pid', 'hostname'].includes(k)));
    return `${String(l['time'])} ${String(l['level'])} ${JSON.stringify(rest)}`;
  });
  return `router log (${lines.length} lines during the cell${lines.length > shown.length ? `, last ${shown.length}` : ''}):\n${shown.join('\n')}`;
}

function describeResult(result: ScenarioResult): string {
  return result.steps
    .map(
      (s) =>
        `  ${s.step}: ${s.ok ? 'ok' : s.unsupported !== undefined ? `unsupported (${s.unsupported})` : `FAILED ${s.error ?? ''}`} ${s.ms} ms${s.detail ? ` - ${s.detail}` : ''}`,
    )
    .join('\n');
}

describe(`the compatibility matrix (${mode}: ${groups.reduce((n, g) => n + g.cells.length, 0)} cells on ${groups.length} clusters)`, () => {
  const runs: CellRun[] = [];
  const record = (run: CellRun): void => {
    runs.push(run);
    if (dir !== undefined) fs.appendFileSync(path.join(dir, 'cells.jsonl'), `${JSON.stringify(run)}\n`);
  };
  const clusterMs: number[] = [];
  const patroniVersions = new Set<string>();
  const started = performance.now();
  let dir: string;
  let cert: TlsFiles;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-matrix-'));
    // The key goes with the run; the markdown stays for the reader.
    registerDir(path.join(dir, 'router-tls'));
    cert = await createSelfSignedCert(path.join(dir, 'router-tls'));
    await pgjdbcClasses();
    console.log(`compatibility matrix: each cell's result in ${path.join(dir, 'cells.jsonl')}`);
  });

  afterAll(() => {
    const versions = `Patroni ${[...patroniVersions].sort().join(' and ')}, PostgreSQL ${path.basename(path.dirname(newestPostgresBinDir()))}`;
    const run = { mode, runs, clusterMs, totalMs: Math.round(performance.now() - started), versions };
    console.log(`compatibility matrix:\n${consoleTable(run)}`);
    if (dir === undefined) return;
    const file = path.join(dir, 'compatibility.md');
    fs.writeFileSync(file, markdown(run));
    fs.rmSync(path.join(dir, 'router-tls'), { recursive: true, force: true });
    forgetDir(path.join(dir, 'router-tls'));
    console.log(`compatibility table: ${file}`);
    if (process.env['MATRIX_README'] === '1') {
      fs.writeFileSync(docsFile, markdown(run));
      console.log(`compatibility table: ${docsFile}`);
    }
  });

  for (const { group, cells } of groups) {
    describe(clusterName(group), () => {
      let fixture: CompatCluster | undefined;
      let startError: unknown;
      const modes = [...new Set(cells.map((c) => c.routerTls))] as RouterTls[];

      beforeAll(async () => {
        try {
          fixture = await startCompatCluster(group, modes, cert);
          clusterMs.push(fixture.readyInMs);
          patroniVersions.add(fixture.cluster.patroniVersion);
        } catch (error) {
          startError = error;
          throw error;
        }
      });

      afterAll(async () => {
        // Cells that never ran because their cluster did not start still belong in the table.
        for (const cell of cells) {
          if (!runs.some((r) => r.cell === cell))
            record({
              cell,
              expected: expectedOutcome(cell).outcome,
              problems: [`not run: ${startError instanceof Error ? startError.message.split('\n')[0] : 'cluster not started'}`],
              ms: 0,
            });
        }
        await fixture?.stop();
      });

      it.each(cells.map((cell) => ({ cell, name: cellName(cell) })))('$name', async ({ cell }: { cell: CompatCell }) => {
        if (fixture === undefined) throw new Error('the cluster did not start');
        const expected = expectedOutcome(cell);
        const router = fixture.router(cell.routerTls);
        const logFrom = router.logLines().length;
        const cellStarted = performance.now();
        const result = await runScenario(cell.driver, fixture.endpoint(cell), { writable: cell.listener === 'primary' });
        const problems = cellProblems(result, expected, fixture.ports);
        record({ cell, expected: expected.outcome, problems, ms: Math.round(performance.now() - cellStarted) });
        const why = `${clusterName(group)}; ${cellName(cell)}; expected ${JSON.stringify(expected, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}\n${describeResult(result)}\n${routerLog(router, logFrom)}`;
        expect(problems, why).toEqual([]);
      });
    });
  }
});
