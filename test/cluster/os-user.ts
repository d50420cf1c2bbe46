import fs from 'node:fs';

export interface OsUser {
  uid: number;
  gid: number;
}

let cached: OsUser | undefined | null = null;

/**
 * The `postgres` OS account to run Patroni, PostgreSQL and their tools as when we are root
 * (PostgreSQL refuses to run as root); undefined when we are not root and run them as ourselves.
 */
export function postgresOsUser(): OsUser | undefined {
  if (cached !== null) return cached;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    cached = undefined;
    return cached;
  }
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) {
    throw new Error('running as root but there is no `postgres` OS user; run scripts/install-deps.sh');
  }
  cached = { uid: Number(fields[2]), gid: Number(fields[3]) };
  return cached;
}

/** Hands files or directory trees to the postgres user (no-op when not root). */
export function giveToPostgres(...paths: string[]): void {
  const user = postgresOsUser();
  if (!user) return;
  const visit = (p: string): void => {
    fs.chownSync(p, user.uid, user.gid);
    if (fs.statSync(p).isDirectory()) for (const entry of fs.readdirSync(p)) visit(`${p}/${entry}`);
  };
  for (const p of paths) visit(p);
}

/** Environment for child processes: ours minus anything that would steer libpq or Patroni. */
export function childEnvironment(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('PG') || key.startsWith('PATRONI_') || key.startsWith('ETCD')) continue;
    env[key] = value;
  }
  return { ...env, HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...extra };
}
