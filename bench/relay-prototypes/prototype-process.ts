import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { logTail } from '../../test/cluster/log-tail.js';
import { SpawnedProcess } from '../../test/cluster/spawned-process.js';
import { waitFor } from '../../test/cluster/wait-for.js';
import type { ProxyProcess } from '../proxy-process.js';
import type { RelayKind } from './relay-proxy.js';

export interface PrototypeSpec {
  /** The column's name in the report, e.g. 'onread+neighbours'. */
  label: string;
  kind: RelayKind;
  neighbours: boolean;
  inWorker: boolean;
}

/** relay-proxy.ts as a process in front of one member, listening once this resolves. */
export async function startPrototype(spec: PrototypeSpec, listenPort: number, target: { host: string; port: number }, dir: string): Promise<ProxyProcess> {
  const script = fileURLToPath(new URL('./relay-proxy.js', import.meta.url));
  const logFile = path.join(dir, `relay-${spec.label.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
  const args = [script, spec.kind, String(listenPort), target.host, String(target.port), ...(spec.neighbours ? ['--neighbours'] : []), ...(spec.inWorker ? ['--in-worker'] : [])];
  const proc = SpawnedProcess.start({
    what: `relay prototype ${spec.label}`,
    command: process.execPath,
    args,
    logFile,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    matches: script,
  });
  const handle: ProxyProcess = { what: spec.label, pid: proc.pid, logFile, running: () => proc.running, stop: async () => void (await proc.stop(5_000)) };
  try {
    await waitFor(
      `relay prototype ${spec.label} to listen`,
      () =>
        new Promise<boolean>((resolve, reject) => {
          if (!proc.running) return reject(new Error(`exited: ${proc.exitDescription ?? 'stopped'}`));
          const socket = net.connect({ host: '127.0.0.1', port: listenPort });
          socket.once('connect', () => (socket.destroy(), resolve(true)));
          socket.once('error', reject);
        }),
      { timeoutMs: 15_000, intervalMs: 100, diagnostics: () => logTail(logFile, 10) },
    );
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
