import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { httpRequest } from '../test/cluster/http-json.js';
import { logTail } from '../test/cluster/log-tail.js';
import { giveToPostgres, postgresOsUser } from '../test/cluster/os-user.js';
import { SpawnedProcess } from '../test/cluster/spawned-process.js';
import { waitFor } from '../test/cluster/wait-for.js';
import { renderHaproxyConfig, type HaproxyLayout } from './haproxy-config.js';
import { haproxyServerName, parseHaproxyStatsCsv, serversUp } from './haproxy-stats.js';
import { renderPgpoolConfig, type PgpoolLayout } from './pgpool-config.js';
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

async function readyByAdmin(adminPort: number): Promise<boolean> {
  try {
    return (await httpRequest('GET', `http://127.0.0.1:${adminPort}/ready`, { timeoutMs: 1000 })).status === 200;
  } catch {
    return false; // no admin endpoint (yet): the listener decides
  }
}

/** A session through the primary listener that lands on a server not in recovery. */
async function readyByPrimaryListener(port: number, session: { user: string; database: string }): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, ...session, connectionTimeoutMillis: 2000, query_timeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ writable: boolean }>('SELECT NOT pg_is_in_recovery() AS writable');
    if (result.rows[0]?.writable !== true) throw new Error('the primary listener reached a server in recovery');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `name` tells the files of two routers apart (router.yaml, router-workers.yaml). */
export async function startRouter(layout: RouterLayout, dir: string, session: { user: string; database: string }, name = 'router'): Promise<RouterProcess> {
  const cli = routerCliPath();
  if (!fs.existsSync(cli)) throw new Error(`the router is not built: ${cli} is missing (npm run build)`);
  const configFile = path.join(dir, `${name}.yaml`);
  const logFile = path.join(dir, `${name}.log`);
  const configText = renderRouterConfig(layout);
  fs.writeFileSync(configFile, configText);
  const proc = SpawnedProcess.start({
    what: 'patroni-router (bench)',
    command: process.execPath,
    // BENCH_ROUTER_CPU_PROF=DIR: V8's CPU profile of each router, written to DIR when it exits.
    // BENCH_ROUTER_NODE_ARGS: more node options for each router (space-separated), to try V8 settings.
    args: [
      ...(process.env.BENCH_ROUTER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_ROUTER_CPU_PROF}`] : []),
      ...(process.env.BENCH_ROUTER_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []),
      cli,
      '--config',
      configFile,
    ],
    logFile,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    matches: configFile,
  });
  const router = { ...wrap(name, proc, logFile), configText };
  try {
    await waitFor(
      `the router to be ready (admin /ready 200, or a write-capable session through its primary listener)`,
      async () => {
        if (!proc.running) throw new Error(`router ${proc.exitDescription ?? 'stopped'}`);
        return (await readyByAdmin(layout.adminPort)) || (await readyByPrimaryListener(layout.primaryPort, session));
      },
      { timeoutMs: 30_000, intervalMs: 250, diagnostics: () => logTail(logFile, 25) },
    );
  } catch (error) {
    await router.stop();
    throw error;
  }
  return router;
}

/** The reference column: bench/bare-pipe-proxy.ts (compiled beside this file) in front of one member. */
export async function startBarePipe(listenPort: number, target: { host: string; port: number }, dir: string): Promise<ProxyProcess> {
  const script = fileURLToPath(new URL('./bare-pipe-proxy.js', import.meta.url));
  const logFile = path.join(dir, 'bare-pipe.log');
  const proc = SpawnedProcess.start({
    what: 'bare pipe proxy (bench)',
    command: process.execPath,
    args: [script, String(listenPort), target.host, String(target.port)],
    logFile,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    matches: script,
  });
  const bare = wrap('bare-pipe', proc, logFile);
  await waitFor(
    'the bare pipe proxy to listen',
    () =>
      new Promise<boolean>((resolve, reject) => {
        if (!proc.running) return reject(new Error(`bare pipe proxy ${proc.exitDescription ?? 'stopped'}`));
        const socket = net.connect({ host: '127.0.0.1', port: listenPort });
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', (err) => reject(err));
      }),
    { timeoutMs: 15_000, intervalMs: 100, diagnostics: () => logTail(logFile, 10) },
  ).catch(async (error: unknown) => {
    await bare.stop();
    throw error;
  });
  return bare;
}

export interface PgpoolProcess extends ProxyProcess {
  configText: string;
}

/** SHOW POOL_NODES through pgpool: each backend's port, status and role as pgpool sees them. */
async function poolNodes(port: number, session: { user: string; database: string }): Promise<Array<{ port: number; status: string; role: string }>> {
  const client = new pg.Client({ host: '127.0.0.1', port, ...session, connectionTimeoutMillis: 2000, query_timeout: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const rows = (await client.query<{ port: string; status: string; role: string }>('SHOW POOL_NODES')).rows;
    return rows.map((r) => ({ port: Number(r.port), status: r.status, role: r.role }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Pgpool-II as the postgres OS user (it refuses root, as PostgreSQL does) with its own files
 * in a fresh directory that user owns (the bench's temp directory is root's alone); ready once
 * SHOW POOL_NODES has every backend up and the leader as the primary.
 */
export async function startPgpool(layout: Omit<PgpoolLayout, 'dir'>, leaderPort: number, session: { user: string; database: string }): Promise<PgpoolProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-pgpool-'));
  const configFile = path.join(dir, 'pgpool.conf');
  const pcpFile = path.join(dir, 'pcp.conf');
  const logFile = path.join(dir, 'pgpool.log');
  const configText = renderPgpoolConfig({ ...layout, dir });
  fs.writeFileSync(configFile, configText);
  fs.writeFileSync(pcpFile, '');
  fs.writeFileSync(path.join(dir, 'pool_passwd'), '', { mode: 0o600 });
  fs.chmodSync(dir, 0o700);
  giveToPostgres(dir);
  const user = postgresOsUser();
  const proc = SpawnedProcess.start({
    what: 'pgpool (bench)',
    command: '/usr/sbin/pgpool',
    // -n: stay in the foreground (its own process group, as every process the bench starts); -D: forget any pgpool_status.
    args: ['-n', '-D', '-f', configFile, '-F', pcpFile],
    logFile,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' },
    ...(user ? { user } : {}),
    matches: configFile,
  });
  const base = wrap('pgpool', proc, logFile);
  const pgpool: PgpoolProcess = {
    ...base,
    configText,
    stop: async () => {
      await base.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      `pgpool to see every backend up, ${leaderPort} as the primary`,
      async () => {
        if (!proc.running) throw new Error(`pgpool ${proc.exitDescription ?? 'stopped'}`);
        const nodes = await poolNodes(layout.port, session);
        const wrong = nodes.filter((n) => n.status !== 'up' || n.role !== (n.port === leaderPort ? 'primary' : 'standby'));
        if (nodes.length !== layout.members.length || wrong.length > 0) throw new Error(`SHOW POOL_NODES: ${JSON.stringify(nodes)}`);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500, diagnostics: () => logTail(logFile, 20) },
    );
  } catch (error) {
    await pgpool.stop();
    throw error;
  }
  return pgpool;
}
