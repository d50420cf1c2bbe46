import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { renderRouterConfig, type RouterLayout } from './router-config.js';

export type WorkersSupport = { supported: true } | { supported: false; why: string };

/**
 * Whether this build of the router takes a `workers` setting: `check-config` of the bench's own
 * configuration with `workers: <value>` added. The router refuses unknown keys, so a build
 * without the feature says "unknown key `workers`" and the bench leaves the workers column out;
 * once the feature lands the column runs, with no change here.
 */
export async function routerWorkersSupport(cli: string, layout: RouterLayout, workers: string, dir: string): Promise<WorkersSupport> {
  const file = path.join(dir, 'router-workers-probe.yaml');
  fs.writeFileSync(file, renderRouterConfig({ ...layout, workers }));
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, [cli, 'check-config', file], { timeout: 30_000 }, (error, stdout, stderr) => {
      const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code: exit, output: `${stdout}${stderr}` });
    });
  });
  return judgeWorkersCheck(code, output, workers);
}

/** Reads check-config's answer. Pure. */
export function judgeWorkersCheck(code: number, output: string, workers: string): WorkersSupport {
  if (code === 0) return { supported: true };
  if (/unknown key.*`workers`/.test(output)) return { supported: false, why: 'the router has no `workers` setting yet (check-config: unknown key `workers`)' };
  const firstLines = output.trim().split('\n').slice(0, 3).join(' / ');
  return { supported: false, why: `check-config refused workers: ${workers}: ${firstLines || `exit ${code}`}` };
}
