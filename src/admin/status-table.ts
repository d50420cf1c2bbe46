import type { ClusterState, Member } from '../topology/cluster-state.js';
import type { ClusterReport, ListenerReport, TopologyReport } from './topology-report.js';

/** patronictl's role words: Leader, Sync Standby, Quorum Standby, Replica, Standby Leader. */
export function memberRoleLabel(state: ClusterState, member: Member): string {
  if (member.name === state.writablePrimary) return 'Leader';
  if (member.name === state.leader) return `Leader (${member.role})`;
  if (member.role === 'standby_leader') return 'Standby Leader';
  if (state.sync.standbys.includes(member.name)) return state.config.synchronousMode === 'quorum' ? 'Quorum Standby' : 'Sync Standby';
  if (member.role === 'replica') return 'Replica';
  return member.role;
}

/** patronictl's state column: a running replica's replication state (`streaming`) where Patroni has one. */
export function memberStateLabel(member: Member): string {
  return member.state === 'running' && member.role === 'replica' && member.replicationState !== undefined ? member.replicationState : member.state;
}

type Cell = string | string[];

/**
 * A box table in patronictl's style: the title sits in the top border, `+`/`-`/`|` frame.
 * A cell may hold several lines.
 */
export function boxTable(title: string, headers: string[], rows: Cell[][], rightAligned: ReadonlySet<number> = new Set()): string[] {
  const lines = (c: Cell): string[] => (Array.isArray(c) ? (c.length > 0 ? c : ['']) : [c]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.max(...lines(r[i] ?? '').map((l) => l.length)))));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const titled = `+ ${title} `;
  const top = titled.length < rule.length ? titled + rule.slice(titled.length) : `${titled}+`;
  const row = (cells: string[]): string => `|${cells.map((c, i) => ` ${rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)} `).join('|')}|`;
  const out = [top, row(headers), rule];
  for (const r of rows) {
    const cells = headers.map((_, i) => lines(r[i] ?? ''));
    const height = Math.max(...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(row(cells.map((c) => c[k] ?? '')));
  }
  out.push(rule);
  return out;
}

function lagInMb(state: ClusterState, m: Member): string {
  if (m.name === state.writablePrimary) return '';
  if (m.lagBytes === undefined) return 'unknown';
  return String(Math.round(m.lagBytes / (1024 * 1024)));
}

function tagsText(m: Member): string[] {
  return Object.entries(m.tags.raw)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}: ${v}`);
}

function clusterLines(c: ClusterReport): string[] {
  const s = c.state;
  if (s === undefined) return [`+ Cluster: ${c.scope} (${c.namespace}): topology not read yet`];
  const notes: string[] = [];
  if (s.config.pause) notes.push(' Maintenance mode: on');
  if (s.switchoverPending)
    notes.push(` Switchover pending: ${s.failover?.leader ?? '?'} -> ${s.failover?.candidate ?? 'any'}${s.failover?.scheduledAt ? ` at ${s.failover.scheduledAt}` : ''}`);
  if (s.writablePrimary === undefined) notes.push(' No writable primary: writes are held or refused');
  if (s.stale) notes.push(' DCS unreachable: routing on the last known topology');
  const dcs = c.dcs === undefined ? '' : ` DCS: ${c.dcs.watch}`;
  const rows = s.members.map((m): Cell[] => [
    m.name,
    m.host === undefined ? '-' : `${m.host}:${m.port}`,
    memberRoleLabel(s, m),
    memberStateLabel(m),
    m.timeline === undefined ? '' : String(m.timeline),
    lagInMb(s, m),
    tagsText(m),
    String(Object.values(c.sessionsByMember[m.name] ?? {}).reduce((a, b) => a + b, 0)),
  ]);
  const table = boxTable(`Cluster: ${c.scope} (${c.namespace})`, ['Member', 'Host', 'Role', 'State', 'TL', 'Lag in MB', 'Tags', 'Sessions'], rows, new Set([4, 5, 7]));
  return [...table, ...notes, ...(dcs ? [dcs] : [])];
}

function listenerRows(l: ListenerReport): Cell[] {
  const routesTo =
    l.wouldUse.length > 0
      ? `${l.wouldUse.join(', ')}${l.routeUsed !== undefined && l.routeUsed !== l.route ? ` (fallback ${l.routeUsed})` : ''}`
      : `none: ${l.note ?? l.explanation?.reason ?? 'no eligible member'}`;
  const excluded = (l.explanation?.members ?? []).filter((v) => !v.eligible).map((v) => `${v.member} (${v.reason ?? '?'}): ${v.detail ?? ''}`);
  const sessions = `${l.sessions.total}${l.sessions.held > 0 ? ` (${l.sessions.held} held)` : ''}`;
  return [l.name, `${l.host}:${l.port}${l.accepting ? '' : ' (down)'}`, l.route, sessions, routesTo, excluded];
}

/** What `patroni-router status` prints: the members per cluster, then where each listener routes now. */
export function renderStatus(report: TopologyReport): string[] {
  const out: string[] = [];
  for (const c of report.clusters) out.push(...clusterLines(c), '');
  out.push(...boxTable('Listeners', ['Listener', 'Address', 'Route', 'Sessions', 'Routes to', 'Not used (why)'], report.listeners.map(listenerRows)));
  if (report.workers !== undefined) {
    const each = report.workers.map(
      (w) =>
        `${w.index} ${w.state}${w.pid !== undefined ? ` (pid ${w.pid})` : ''}${w.sessions !== undefined ? `, ${w.sessions} sessions` : ''}${w.restarts > 0 ? `, restarted ${w.restarts}x` : ''}`,
    );
    out.push(` Workers (sessions above are their sum): ${each.join('; ')}`);
  }
  if (!report.ready) out.push(' Router not ready: topology unknown or a listener is not bound');
  return out;
}
