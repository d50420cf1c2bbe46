/**
 * HAProxy's stats CSV (`GET /;csv` on the stats listener), reduced to what the bench waits
 * on: which servers of which listen block are UP. Pure.
 */

export interface ServerStatus {
  proxy: string;
  server: string;
  /** UP, DOWN, "UP 1/3", "DOWN 1/2", NOLB, MAINT, no check, ... */
  status: string;
}

export function parseHaproxyStatsCsv(csv: string): ServerStatus[] {
  const lines = csv.split('\n').filter((l) => l.length > 0);
  const header = lines[0]?.replace(/^# /, '').split(',');
  if (!header) throw new Error('empty HAProxy stats CSV');
  const proxyAt = header.indexOf('pxname');
  const serverAt = header.indexOf('svname');
  const statusAt = header.indexOf('status');
  if (proxyAt < 0 || serverAt < 0 || statusAt < 0) throw new Error(`HAProxy stats CSV lacks pxname/svname/status: ${lines[0]}`);
  return lines
    .slice(1)
    .map((line) => line.split(','))
    .filter((f) => f[serverAt] !== 'FRONTEND' && f[serverAt] !== 'BACKEND')
    .map((f) => ({ proxy: f[proxyAt] ?? '', server: f[serverAt] ?? '', status: f[statusAt] ?? '' }));
}

/** Servers of one listen block whose check says UP (including "UP 1/3", going down but still up). */
export function serversUp(statuses: readonly ServerStatus[], proxy: string): string[] {
  return statuses.filter((s) => s.proxy === proxy && s.status.startsWith('UP')).map((s) => s.server);
}

/** HAProxy's server name for a member, as the Patroni template spells it. */
export function haproxyServerName(host: string, port: number): string {
  return `postgresql_${host}_${port}`;
}
