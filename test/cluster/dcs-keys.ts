import { httpJson } from './http-json.js';

/** `/<namespace>/<scope>/<key>` with duplicate slashes collapsed, as Patroni builds it. */
export function dcsKeyPath(namespace: string, scope: string, key: string): string {
  return `/${namespace}/${scope}/${key}`.replace(/\/+/g, '/');
}

/** Reads one key through etcd's HTTP APIs: the v3 JSON gateway or the v2 keys API. */
export async function readDcsKey(endpoint: string, api: 'etcd3' | 'etcd', keyPath: string): Promise<string | undefined> {
  if (api === 'etcd3') {
    const body = (await httpJson('POST', `${endpoint}/v3/kv/range`, {
      key: Buffer.from(keyPath).toString('base64'),
    })) as { kvs?: { value?: string }[] };
    const kv = body.kvs?.[0];
    // protobuf JSON leaves out empty values: a key that exists with '' has no `value`.
    return kv === undefined ? undefined : Buffer.from(kv.value ?? '', 'base64').toString('utf8');
  }
  const body = (await httpJson('GET', `${endpoint}/v2/keys${keyPath}`)) as {
    errorCode?: number;
    message?: string;
    node?: { value?: string };
  };
  if (body.errorCode === 100) return undefined; // key not found
  if (body.errorCode !== undefined) throw new Error(`etcd v2 ${keyPath}: ${body.message ?? body.errorCode}`);
  return body.node?.value;
}
