/**
 * What the router's open sockets are, from Linux /proc: its fds that are sockets, matched by
 * inode against /proc/<pid>/net/tcp{,6}, and named by the ports at either end. Parsing and
 * naming are pure; reading /proc is apart.
 */
import fs from 'node:fs';

export interface TcpSocket {
  localPort: number;
  remotePort: number;
  /** The kernel's state name: ESTABLISHED, LISTEN, CLOSE_WAIT, ... */
  state: string;
  inode: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** The rows of /proc/net/tcp or tcp6 (header line skipped). */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const rows: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const port = (address: string | undefined): number => parseInt(address?.split(':')[1] ?? '', 16);
    rows.push({ localPort: port(f[1]), remotePort: port(f[2]), state: STATES[f[3] ?? ''] ?? f[3] ?? '?', inode: f[9] ?? '' });
  }
  return rows;
}

export interface SocketPorts {
  listeners: readonly number[];
  admin: number;
  /** PostgreSQL port of each member, by name. */
  members: Readonly<Record<string, number>>;
  rest: readonly number[];
  etcd: number;
}

export interface SocketCensus {
  /** Bound sockets: the listeners and the admin server. */
  listening: number;
  /** Connections from clients to a listener. */
  clients: number;
  /** Connections to the admin API (the chaos run's own scrapes). */
  admin: number;
  /** Connections to each member's PostgreSQL port. */
  backends: Record<string, number>;
  rest: number;
  etcd: number;
  /** Sockets whose peer has closed and that the router has not (CLOSE_WAIT): never expected to stay. */
  closeWait: number;
  other: number;
}

export function censusOfSockets(sockets: readonly TcpSocket[], ports: SocketPorts): SocketCensus {
  const census: SocketCensus = { listening: 0, clients: 0, admin: 0, backends: {}, rest: 0, etcd: 0, closeWait: 0, other: 0 };
  const memberByPort = new Map(Object.entries(ports.members).map(([name, port]) => [port, name]));
  for (const s of sockets) {
    if (s.state === 'CLOSE_WAIT') census.closeWait++;
    if (s.state === 'LISTEN') census.listening++;
    else if (ports.listeners.includes(s.localPort)) census.clients++;
    else if (s.localPort === ports.admin) census.admin++;
    else if (memberByPort.has(s.remotePort)) {
      const name = memberByPort.get(s.remotePort) as string;
      census.backends[name] = (census.backends[name] ?? 0) + 1;
    } else if (ports.rest.includes(s.remotePort)) census.rest++;
    else if (s.remotePort === ports.etcd) census.etcd++;
    else census.other++;
  }
  return census;
}

/** The TCP sockets among a process's open file descriptors. */
export function readProcessSockets(pid: number): TcpSocket[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const rows = ['tcp', 'tcp6'].flatMap((table) => {
    try {
      return parseProcNetTcp(fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8'));
    } catch {
      return [];
    }
  });
  return rows.filter((r) => inodes.has(r.inode));
}

export function countOpenFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}
