import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpRequest } from '../test/cluster/http-json.js';
import { logTail } from '../test/cluster/log-tail.js';
import { SpawnedProcess } from '../test/cluster/spawned-process.js';
import { waitFor } from '../test/cluster/wait-for.js';
import { renderHaproxyConfig, type HaproxyLayout } from './haproxy-config.js';
import { haproxyServerName, parseHaproxyStatsCsv, serversUp } from './haproxy-stats.js';
import { renderRouterConfig, type RouterLayout } from './router-config.js';

/** A proxy the bench started: its pid for /proc readings, and how to stop it. */
export interface ProxyProcess {
  what: string;
  pid: number;
  logFile: string;
  running(): boolean;
  stop(): Promise<void>;
}

function wrap(what: string, proc: SpawnedProcess, logFile: string): ProxyProcess {
  return {
    what,
    pid: proc.pid,
    logFile,
    running: () => proc.running,
    stop: async () => {
      await proc.stop(5_000);
    },
  };
}

export interface HaproxyProcess extends ProxyProcess {
  configText: string;
  /** Servers per listen block whose checks are UP now. */
  upServers(proxy: 'master' | 'replicas'): Promise<string[]>;
  /** Waits until `master` routes to exactly this member (the checks have caught up). */
  waitForPrimary(host: string, port: number, timeoutMs?: number): Promise<void>;
}

export async function startHaproxy(layout: HaproxyLayout, dir: string): Promise<HaproxyProcess> {
  const configFile = path.join(dir, 'haproxy.cfg');
  const logFile = path.join(dir, 'haproxy.log');
  const configText = renderHaproxyConfig(layout);
  fs.writeFileSync(configFile, configText);
  const proc = SpawnedProcess.start({
    what: 'haproxy (bench)',
    command: '/usr/sbin/haproxy',
    args: ['-f', configFile, '-db'],
    logFile,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    matches: configFile,
  });
  const statsUrl = `http://127.0.0.1:${layout.statsPort}/;csv`;
  const upServers = async (proxy: 'master' | 'replicas'): Promise<string[]> => {
    const answer = await httpRequest('GET', statsUrl, { timeoutMs: 2000 });
    if (answer.status !== 200) throw new Error(`HAProxy stats answered ${answer.status}`);
    return serversUp(parseHaproxyStatsCsv(answer.body), proxy);
  };
  const waitForPrimary = async (host: string, port: number, timeoutMs = 60_000): Promise<void> => {
    const wanted = haproxyServerName(host, port);
    await waitFor(
      `HAProxy's master block to route to ${wanted} only`,
      async () => {
        if (!proc.running) throw new Error(`haproxy ${proc.exitDescription ?? 'stopped'}`);
        const up = await upServers('master');
        if (up.length !== 1 || up[0] !== wanted) throw new Error(`UP: [${up.join(', ')}]`);
        return true;
      },
      { timeoutMs, intervalMs: 200, diagnostics: () => logTail(logFile, 15) },
    );
  };
  return { ...wrap('haproxy', proc, logFile), configText, upServers, waitForPrimary };
}

export interface RouterProcess extends ProxyProcess {
  configText: string;
}

/** The router's entry point, compiled: dist/src/cli.js beside dist/bench. */
export function routerCliPath(): string {
  return fileURLToPath(new URL('../src/cli.js', import.meta.url));
}

export async function startRouter(layout: RouterLayout, dir: string): Promise<RouterProcess> {
  const cli = routerCliPath();
  if (!fs.existsSync(cli)) throw new Error(`the router is not built: ${cli} is missing (npm run build)`);
  const configFile = path.join(dir, 'router.yaml');
  const logFile = path.join(dir, 'router.log');
  const configText = renderRouterConfig(layout);
  fs.writeFileSync(configFile, configText);
  const proc = SpawnedProcess.start({
    what: 'patroni-router (bench)',
    command: process.execPath,
    args: [cli, '--config', configFile],
    logFile,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    matches: configFile,
  });
  const router = { ...wrap('router', proc, logFile), configText };
  try {
    await waitFor(
      `the router's admin /ready to answer 200`,
      async () => {
        if (!proc.running) throw new Error(`router ${proc.exitDescription ?? 'stopped'}`);
        const answer = await httpRequest('GET', `http://127.0.0.1:${layout.adminPort}/ready`, { timeoutMs: 1000 });
        if (answer.status !== 200) throw new Error(`/ready answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200, diagnostics: () => logTail(logFile, 25) },
    );
  } catch (error) {
    await router.stop();
    throw error;
  }
  return router;
}
