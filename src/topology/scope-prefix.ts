/**
 * Where Patroni keeps one cluster's keys: `/<namespace>/<scope>/`, with slashes collapsed the
 * way Patroni does it, so `service`, `/service` and `/service/` all name the same place.
 */
export function normaliseNamespace(namespace: string): string {
  const inner = namespace
    .split('/')
    .filter((part) => part.length > 0)
    .join('/');
  return inner.length === 0 ? '/' : `/${inner}/`;
}

/** The key prefix of one cluster, e.g. `/service/batman/`. */
export function scopePrefix(namespace: string, scope: string): string {
  return `${normaliseNamespace(namespace)}${scope}/`;
}

/** The key relative to the scope prefix (`leader`, `members/pg0`), or undefined when outside it. */
export function relativeKey(prefix: string, fullKey: string): string | undefined {
  return fullKey.startsWith(prefix) ? fullKey.slice(prefix.length) : undefined;
}
