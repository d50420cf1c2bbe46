import { parseArgs } from 'node:util';
import { renderStatus } from '../admin/status-table.js';
import type { TopologyReport } from '../admin/topology-report.js';

export const STATUS_USAGE = `usage: patroni-router status [--admin URL] [--token TOKEN]
  --admin URL    the router's admin API (default http://127.0.0.1:7000)
  --token TOKEN  admin bearer token (default: $PATRONI_ROUTER_TOKEN)`;

/**
 * `patroni-router status`: reads /topology from a running router and prints the members
 * (like `patronictl list`) and where each listener routes now. Returns the exit code:
 * 0 shown, 1 the router could not be asked, 2 bad arguments.
 */
export async function runStatus(args: string[], out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { admin: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
    }));
  } catch (error) {
    out(`${(error as Error).message}\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(STATUS_USAGE);
    return 0;
  }
  const base = (values.admin ?? 'http://127.0.0.1:7000').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(`${base}/topology`);
  } catch {
    out(`--admin: not a URL: ${base}`);
    return 2;
  }
  const token = values.token ?? env['PATRONI_ROUTER_TOKEN'];
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    out(`cannot reach the router's admin API at ${base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    return 1;
  }
  if (response.status === 401) {
    out(`${base} needs the admin token: pass --token or set PATRONI_ROUTER_TOKEN`);
    return 1;
  }
  if (!response.ok) {
    out(`${url.href} answered HTTP ${response.status}`);
    return 1;
  }
  let report: TopologyReport;
  try {
    report = (await response.json()) as TopologyReport;
  } catch {
    out(`${url.href} did not answer JSON: is that a patroni-router admin address?`);
    return 1;
  }
  if (!Array.isArray(report.clusters) || !Array.isArray(report.listeners)) {
    out(`${url.href} did not answer a topology report: is that a patroni-router admin address?`);
    return 1;
  }
  for (const line of renderStatus(report)) out(line);
  return 0;
}
