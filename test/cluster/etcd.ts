import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { httpRequest } from './http-json.js';
import { logTail } from './log-tail.js';
import { childEnvironment } from './os-user.js';
import { forgetDir, registerDir } from './process-registry.js';
import { SpawnedProcess } from './spawned-process.js';
import { waitFor } from './wait-for.js';

export interface EtcdHandle {
  /** http://127.0.0.1:<clientPort> */
  endpoint: string;
  clientPort: number;
  /** Whether the v2 API is enabled (Patroni's `etcd:` section needs it). */
  v2: boolean;
  dataDir: string;
  logFile: string;
  /** Graceful stop (SIGTERM); start() brings it back on the same ports with the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGKILL; start() brings it back. */
  kill(): Promise<void>;
  /** Stops for good and removes its directory. */
  close(): Promise<void>;
}

export interface EtcdOptions {
  v2?: boolean;
  /** Parent directory to live in (removed by its owner); default a fresh temp dir of its own. */
  dir?: string;
}

/** Starts a single-member etcd on free loopback ports and waits until it is healthy. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdHandle> {
  const v2 = opts.v2 ?? false;
  const ownDir = opts.dir === undefined;
  const baseDir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-etcd-'));
  if (ownDir) registerDir(baseDir);
  else fs.mkdirSync(baseDir, { recursive: true });
  const dataDir = path.join(baseDir, 'etcd-data');
  const logFile = path.join(baseDir, 'etcd.log');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'etcd0',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `etcd0=${peerUrl}`,
    '--initial-cluster-state',
    'new',
    '--initial-cluster-token',
    `patroni-router-${process.pid}-${clientPort}`,
    ...(v2 ? ['--enable-v2=true'] : []),
  ];
  let current: SpawnedProcess | undefined;

  const start = async (): Promise<void> => {
    if (current?.running) return;
    const started = SpawnedProcess.start({
      what: `etcd ${endpoint}`,
      command: 'etcd',
      args,
      logFile,
      cwd: baseDir,
      env: childEnvironment(baseDir),
      matches: dataDir,
    });
    current = started;
    await waitFor(
      `etcd at ${endpoint} to be healthy`,
      async () => {
        if (!started.running) throw new Error(`etcd ${started.exitDescription ?? 'is not running'}`);
        const answer = await httpRequest('GET', `${endpoint}/health`, { timeoutMs: 1000 });
        return answer.status === 200 && answer.body.includes('"true"');
      },
      { timeoutMs: 30_000, intervalMs: 100, diagnostics: () => logTail(logFile, 20) },
    );
  };
  const stop = async (): Promise<void> => {
    await current?.stop(10_000);
  };
  const kill = async (): Promise<void> => {
    await current?.kill();
  };
  const close = async (): Promise<void> => {
    await current?.kill();
    fs.rmSync(ownDir ? baseDir : dataDir, { recursive: true, force: true });
    if (ownDir) forgetDir(baseDir);
  };

  try {
    await start();
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, clientPort, v2, dataDir, logFile, stop, start, kill, close };
}
