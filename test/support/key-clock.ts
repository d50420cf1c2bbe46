/**
 * A raw etcd v3 watch on the cluster's prefix, independent of the router: records when each
 * key event reached this process, so a test can measure the router against the etcd event.
 */
import { Etcd3 } from 'etcd3';
import type { PatroniCluster } from '../cluster/index.js';

export interface KeyEvent {
  at: number;
  key: string;
  type: 'put' | 'delete';
  value: string;
}

export class KeyClock {
  readonly events: KeyEvent[] = [];
  private readonly client: Etcd3;
  private watcher: { cancel(): Promise<void> } | undefined;

  constructor(private readonly cluster: PatroniCluster) {
    this.client = new Etcd3({ hosts: cluster.etcd.endpoint });
  }

  async start(): Promise<void> {
    const prefix = `${this.cluster.namespace}${this.cluster.scope}/`;
    const watcher = await this.client.watch().prefix(prefix).create();
    watcher.on('put', (kv) => this.events.push({ at: Date.now(), key: kv.key.toString().slice(prefix.length), type: 'put', value: kv.value.toString() }));
    watcher.on('delete', (kv) => this.events.push({ at: Date.now(), key: kv.key.toString().slice(prefix.length), type: 'delete', value: '' }));
    this.watcher = watcher;
  }

  /** When the member key of `member` first said role master/primary after `since`. */
  becamePrimaryAt(member: string, since: number): number | undefined {
    return this.events.find((e) => e.at >= since && e.key === `members/${member}` && /"role":\s*"(master|primary)"/.test(e.value))?.at;
  }

  firstAfter(since: number, predicate: (e: KeyEvent) => boolean): KeyEvent | undefined {
    return this.events.find((e) => e.at >= since && predicate(e));
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
    this.client.close();
  }
}
