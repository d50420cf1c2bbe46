/**
 * etcdctl as an operator would run it against a secured etcd: v3 (`--user`, `--cacert`) or
 * the v2 API (`ETCDCTL_API=2`, `--username`, `--ca-file`), for writing Patroni's keys by hand.
 */
import os from 'node:os';
import { childEnvironment } from '../cluster/os-user.js';
import { runCommand } from '../cluster/run-command.js';

export interface EtcdTarget {
  endpoint: string;
  /** `user:password` */
  user?: string;
  tls?: { caFile: string; cert?: string; key?: string };
  /** v3 `--command-timeout` (default 5s); shorter for a call that is expected to fail. */
  commandTimeout?: string;
}

function flags(api: 'etcd3' | 'etcd', target: EtcdTarget): string[] {
  const v3 = api === 'etcd3';
  // Fail fast against an endpoint that refuses us (the default dial timeout is 5 s, retried).
  const out = ['--endpoints', target.endpoint, ...(v3 ? ['--dial-timeout', '2s', '--command-timeout', target.commandTimeout ?? '5s'] : ['--timeout', '2s'])];
  if (target.user !== undefined) out.push(v3 ? '--user' : '--username', target.user);
  if (target.tls !== undefined) {
    out.push(v3 ? '--cacert' : '--ca-file', target.tls.caFile);
    if (target.tls.cert !== undefined) out.push(v3 ? '--cert' : '--cert-file', target.tls.cert);
    if (target.tls.key !== undefined) out.push(v3 ? '--key' : '--key-file', target.tls.key);
  }
  return out;
}

export function etcdctl(api: 'etcd3' | 'etcd', target: EtcdTarget, args: string[]): Promise<string> {
  const env = childEnvironment(os.tmpdir(), { ETCDCTL_API: api === 'etcd3' ? '3' : '2' });
  return runCommand('etcdctl', [...flags(api, target), ...args], { cwd: os.tmpdir(), env, timeoutMs: 15_000 });
}

/** Writes one key (v3 `put`, v2 `set`). */
export async function putKey(api: 'etcd3' | 'etcd', target: EtcdTarget, key: string, value: string): Promise<void> {
  // `--` so a value is never read as a flag.
  await etcdctl(api, target, [api === 'etcd3' ? 'put' : 'set', '--', key, value]);
}
