import { describe, expect, it } from 'vitest';
import type { CompatCell } from '../../support/matrix/compat-axes.js';
import { consoleTable, markdown, type MatrixRun } from '../../support/matrix/compat-report.js';

const cell: CompatCell = { patroni: '4', memberSsl: 'off', restApi: 'https', hba: 'md5', routerTls: 'terminate', sslmode: 'require', driver: 'pgjdbc', listener: 'replica' };
const run: MatrixRun = {
  mode: 'pairwise',
  runs: [
    { cell, expected: 'works', problems: [], ms: 2_345 },
    { cell: { ...cell, driver: 'psql', routerTls: 'passthrough' }, expected: 'refused', problems: ['connect failed with "x|y"'], ms: 120 },
  ],
  clusterMs: [9_100],
  totalMs: 20_000,
  versions: 'Patroni 4.0.7, PostgreSQL 15',
};

describe('compat report', () => {
  it('prints one line per cell and a summary', () => {
    const lines = consoleTable(run).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^1\s+4\s+off\s+https\s+md5\s+terminate\s+require\s+pgjdbc\s+replica\s+works\s+pass\s+2\.3$/);
    expect(lines[2]).toMatch(/refused\s+FAIL\s+0\.1$/);
    expect(lines[3]).toBe('2 cells (pairwise), 1 passed, 1 failed; 1 clusters ready in 9.1 s; 20.0 s in all');
  });

  it('writes markdown with the tallies per axis value and per driver, and the failures', () => {
    const md = markdown(run);
    expect(md).toContain('**2 cells, 1 passed, 1 failed**');
    expect(md).toContain('| routerTls | `terminate` | 1/1 |');
    expect(md).toContain('| routerTls | `passthrough` | **0/1** |');
    expect(md).toContain('| routerTls | `passthrough` | **0/1** |');
    expect(md).toMatch(/\| pgjdbc \| 1\/1 \| - \| 1\/1 \|/);
    expect(md).toContain('- #2 patroni=4 memberSsl=off restApi=https hba=md5 routerTls=passthrough sslmode=require driver=psql listener=replica: connect failed with "x\\|y"');
  });
});
