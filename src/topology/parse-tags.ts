import type { MemberTags } from './cluster-state.js';

export interface ParsedTags {
  tags: MemberTags;
  /** Problems with the tags value; a member with any is unusable. */
  problems: string[];
}

const NO_TAGS: MemberTags = Object.freeze({
  nofailover: false,
  noloadbalance: false,
  nosync: false,
  nostream: false,
  raw: Object.freeze({}),
});

/** Patroni accepts booleans and their usual string spellings for boolean tags. */
function truthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return ['true', 'yes', 'on', '1', 'y', 't'].includes(value.trim().toLowerCase());
  return false;
}

/** A priority of 0 or less means "never" (failover_priority 3.2+, sync_priority 4.1+). */
function priorityDisables(value: unknown): boolean | 'bad' {
  if (value === undefined || value === null) return false;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return 'bad';
  return n <= 0;
}

function asString(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

/** Effective tags from a member key's `tags` value (absent means Patroni's defaults). */
export function parseTags(value: unknown): ParsedTags {
  if (value === undefined || value === null) return { tags: NO_TAGS, problems: [] };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { tags: NO_TAGS, problems: [`tags is not an object: ${asString(value)}`] };
  }
  const problems: string[] = [];
  const entries = Object.entries(value as Record<string, unknown>);
  const raw: Record<string, string> = {};
  for (const [key, v] of entries) raw[key] = asString(v);
  const get = (key: string): unknown => (value as Record<string, unknown>)[key];

  const failoverPriority = priorityDisables(get('failover_priority'));
  if (failoverPriority === 'bad') problems.push(`tags.failover_priority is not a number: ${asString(get('failover_priority'))}`);
  const syncPriority = priorityDisables(get('sync_priority'));
  if (syncPriority === 'bad') problems.push(`tags.sync_priority is not a number: ${asString(get('sync_priority'))}`);

  const replicatefrom = get('replicatefrom');
  if (replicatefrom !== undefined && replicatefrom !== null && typeof replicatefrom !== 'string') {
    problems.push(`tags.replicatefrom is not a member name: ${asString(replicatefrom)}`);
  }

  const tags: MemberTags = {
    nofailover: truthy(get('nofailover')) || failoverPriority === true,
    noloadbalance: truthy(get('noloadbalance')),
    nosync: truthy(get('nosync')) || syncPriority === true,
    nostream: truthy(get('nostream')),
    raw: Object.freeze(raw),
  };
  if (typeof replicatefrom === 'string' && replicatefrom.length > 0) tags.replicatefrom = replicatefrom;
  return { tags: Object.freeze(tags), problems };
}
