import type { ClusterState, Member } from './cluster-state.js';

const none = '(none)';
const show = (v: unknown): string => (v === undefined ? none : typeof v === 'string' ? v : JSON.stringify(v));

function compare(out: string[], label: string, before: unknown, after: unknown): void {
  const a = show(before);
  const b = show(after);
  if (a !== b) out.push(`${label} ${a} -> ${b}`);
}

function memberChanges(out: string[], a: Member, b: Member): void {
  const n = b.name;
  compare(out, `${n} role`, a.role, b.role);
  compare(out, `${n} state`, a.state, b.state);
  compare(out, `${n} timeline`, a.timeline, b.timeline);
  // Not the position itself (it moves all the time), but whether the key has one: Patroni
  // leaves it out while a long action such as a demote runs (routing/demote-signal.ts).
  compare(out, `${n} xlog_location`, a.walPosition === undefined ? 'absent' : 'present', b.walPosition === undefined ? 'absent' : 'present');
  compare(out, `${n} address`, a.host === undefined ? undefined : `${a.host}:${a.port}`, b.host === undefined ? undefined : `${b.host}:${b.port}`);
  compare(out, `${n} api_url`, a.apiUrl, b.apiUrl);
  compare(out, `${n} tags`, a.tags.raw, b.tags.raw);
  compare(out, `${n} invalid`, a.invalid, b.invalid);
  compare(out, `${n} pending_restart`, a.pendingRestart, b.pendingRestart);
  compare(out, `${n} scheduled restart`, a.scheduledRestartAt, b.scheduledRestartAt);
  compare(out, `${n} lag`, a.lagBytes === undefined ? undefined : `${a.lagBytes} (${a.lagSource})`, b.lagBytes === undefined ? undefined : `${b.lagBytes} (${b.lagSource})`);
  const ra = a.observed;
  const rb = b.observed;
  compare(out, `${n} REST reachable`, ra?.reachable, rb?.reachable);
  compare(out, `${n} REST role`, ra?.role, rb?.role);
  compare(out, `${n} REST state`, ra?.state, rb?.state);
  compare(out, `${n} REST timeline`, ra?.timeline, rb?.timeline);
  compare(out, `${n} REST replay paused`, ra?.replayPaused, rb?.replayPaused);
}

/**
 * What changed between two snapshots, in words for logs and the status page. Timestamps
 * (last contact, probe times) and raw WAL positions are left out on purpose: they move all the
 * time, and lag (which they feed) is compared instead. An empty list means "same picture".
 */
export function describeChanges(previous: ClusterState | undefined, next: ClusterState): string[] {
  if (previous === undefined) {
    return [`first view: leader ${show(next.leader)}, writable primary ${show(next.writablePrimary)}, members ${next.members.map((m) => m.name).join(',') || none}`];
  }
  const out: string[] = [];
  compare(out, 'leader', previous.leader, next.leader);
  compare(out, 'writable primary', previous.writablePrimary, next.writablePrimary);
  if (previous.stale !== next.stale) out.push(next.stale ? 'DCS unreachable: state is stale' : 'DCS reachable again');
  const before = new Map(previous.members.map((m) => [m.name, m]));
  const after = new Map(next.members.map((m) => [m.name, m]));
  for (const [name, m] of after) {
    const old = before.get(name);
    if (old === undefined) out.push(`member ${name} added (${m.role}, ${m.state})`);
    else memberChanges(out, old, m);
  }
  for (const name of before.keys()) if (!after.has(name)) out.push(`member ${name} removed`);
  compare(out, 'sync standbys', previous.sync.standbys.join(','), next.sync.standbys.join(','));
  compare(out, 'sync leader', previous.sync.leader, next.sync.leader);
  compare(out, 'sync quorum', previous.sync.quorum, next.sync.quorum);
  for (const field of Object.keys({ ...previous.config, ...next.config }) as Array<keyof ClusterState['config']>) {
    compare(out, `config ${field}`, previous.config[field], next.config[field]);
  }
  compare(out, 'failover request', previous.failover, next.failover);
  compare(out, 'leader optime', previous.leaderOptime, next.leaderOptime);
  compare(out, 'timeline history entries', previous.timelineHistory?.length, next.timelineHistory?.length);
  compare(out, 'failsafe members', previous.failsafeMembers?.join(','), next.failsafeMembers?.join(','));
  const oldProblems = new Set(previous.problems);
  const newProblems = new Set(next.problems);
  for (const p of newProblems) if (!oldProblems.has(p)) out.push(`problem: ${p}`);
  for (const p of oldProblems) if (!newProblems.has(p)) out.push(`resolved: ${p}`);
  return out;
}
