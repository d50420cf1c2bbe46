import { performance } from 'node:perf_hooks';
import { Etcd3, type IWatchResponse } from 'etcd3';
import { request } from 'undici';

/** One etcd change as a separate, independent watcher saw it, with its arrival time. */
export interface RawEvent {
  t: number;
  type: 'put' | 'delete';
  key: string;
  value?: string;
}

/**
 * A plain etcd watcher beside the follower, recording when each change reaches this process:
 * the reference clock for "etcd change -> published ClusterState" delays.
 */
export interface RawWatch {
  events: RawEvent[];
  close(): Promise<void>;
}

export async function rawWatchV3(endpoint: string, prefix: string): Promise<RawWatch> {
  const client = new Etcd3({ hosts: endpoint });
  const events: RawEvent[] = [];
  const watcher = await client.watch().prefix(prefix).create();
  watcher.on('data', (res: IWatchResponse) => {
    const t = performance.now();
    for (const e of res.events) {
      const key = e.kv.key.toString().slice(prefix.length);
      events.push(e.type === 'Put' ? { t, type: 'put', key, value: e.kv.value.toString() } : { t, type: 'delete', key });
    }
  });
  watcher.on('error', () => undefined);
  return {
    events,
    close: async () => {
      await watcher.cancel().catch(() => undefined);
      client.close();
    },
  };
}

interface V2Answer {
  action?: string;
  node?: { key?: string; value?: string; modifiedIndex?: number };
}

export async function rawWatchV2(endpoint: string, prefix: string): Promise<RawWatch> {
  const events: RawEvent[] = [];
  const stop = new AbortController();
  const dir = prefix.replace(/\/+$/, '');
  const first = await request(`${endpoint}/v2/keys${dir}?recursive=true`);
  await first.body.text();
  let waitIndex = Number(first.headers['x-etcd-index']) + 1;
  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        const res = await request(`${endpoint}/v2/keys${dir}?wait=true&recursive=true&waitIndex=${waitIndex}`, { signal: stop.signal, headersTimeout: 0, bodyTimeout: 0 });
        const answer = JSON.parse(await res.body.text()) as V2Answer;
        const t = performance.now();
        const node = answer.node;
        if (node?.modifiedIndex === undefined || node.key === undefined) continue;
        waitIndex = node.modifiedIndex + 1;
        const key = node.key.slice(prefix.length);
        const deleted = ['delete', 'expire', 'compareAndDelete'].includes(answer.action ?? '');
        events.push(deleted ? { t, type: 'delete', key } : { t, type: 'put', key, value: node.value ?? '' });
      } catch {
        if (stop.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200)); // etcd restarting: try again shortly
      }
    }
  })();
  return {
    events,
    close: async () => {
      stop.abort();
      await loop;
    },
  };
}
