import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseCpuTicksSplit } from '../../../bench/process-usage.js';
import { parseParentPid, processTree } from '../../../bench/process-tree.js';
import { renderRouterConfig } from '../../../bench/router-config.js';
import { judgeWorkersCheck } from '../../../bench/router-workers.js';
import { ConfigError } from '../../../src/config/config-error.js';
import { parseConfig } from '../../../src/config/load.js';

const layout = { scope: 'bench', namespace: '/service/', etcdEndpoint: 'http://127.0.0.1:2379', primaryPort: 6000, replicaPort: 6001, adminPort: 6002 };

describe('the router-workers column', () => {
  it('writes workers only when asked, a number as a number', () => {
    expect(parse(renderRouterConfig(layout)).workers).toBeUndefined();
    expect(parse(renderRouterConfig({ ...layout, workers: 'auto' })).workers).toBe('auto');
    expect(parse(renderRouterConfig({ ...layout, workers: '4' })).workers).toBe(4);
  });

  it('reads check-config: accepted, an unknown key, or another refusal', () => {
    expect(judgeWorkersCheck(0, 'x.yaml: OK', 'auto')).toEqual({ supported: true });
    expect(judgeWorkersCheck(1, 'invalid configuration in x.yaml:\n  - unknown key `workers`\n', 'auto')).toEqual({
      supported: false,
      why: 'the router has no `workers` setting yet (check-config: unknown key `workers`)',
    });
    const refused = judgeWorkersCheck(1, 'invalid configuration in x.yaml:\n  - workers: expected a number up to 64', '999');
    expect(refused.supported).toBe(false);
    expect(!refused.supported && refused.why).toMatch(/^check-config refused workers: 999: .*up to 64/);
  });

  it("matches what this router's own loader says about workers (either answer is fine, a third is not)", () => {
    let output = 'OK';
    try {
      parseConfig(renderRouterConfig({ ...layout, workers: 'auto' }), 'bench.yml', {});
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      output = error.message;
    }
    const judged = judgeWorkersCheck(output === 'OK' ? 0 : 1, output, 'auto');
    if (!judged.supported) expect(judged.why).toMatch(/no `workers` setting yet/);
  });
});

describe('a proxy as a process tree', () => {
  it('reads the parent pid and utime/stime apart, whatever the command name', () => {
    const stat = '8743 (my (odd) cmd) R 8739 8739 6446 0 -1 4194304 126 0 0 0 250 31 0 0 20 0 1 0 47981 3133440 392';
    expect(parseParentPid(stat)).toBe(8739);
    expect(parseCpuTicksSplit(stat)).toEqual({ user: 250, system: 31 });
  });

  it('finds this process and none that is not its descendant', () => {
    const tree = processTree(process.pid);
    expect(tree[0]).toBe(process.pid);
    expect(tree).not.toContain(process.ppid);
  });
});
