import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveShape, type ClusterShape, type HbaMethod, type SynchronousMode } from './cluster-shape.js';
import { credentials, probeTable } from './credentials.js';
import { dcsKeyPath, readDcsKey } from './dcs-keys.js';
import { startEtcd, type EtcdHandle } from './etcd.js';
import { freePort } from './free-port.js';
import { logTails } from './log-tail.js';
import { childEnvironment, giveToPostgres, postgresOsUser } from './os-user.js';
import { checkTiming, type DcsTiming } from './patroni-config.js';
import { patroniInstall, type PatroniInstall, type PatroniMajor } from './patroni-install.js';
import { PatroniMemberProcess, type ClusterMember } from './patroni-member.js';
import { getClusterView, getMemberStatus, type ClusterView, type RestTrust } from './patroni-rest.js';
import { passwordEncryption } from './pg-hba.js';
import { newestPostgresBinDir } from './postgres-install.js';
import { forgetDir, registerDir } from './process-registry.js';
import { runCommand } from './run-command.js';
import { createSelfSignedCert } from './tls-cert.js';
import { waitFor } from './wait-for.js';

export type { ClusterMember } from './patroni-member.js';

export interface ClusterOptions {
  /** Default 3. */
  members?: number;
  /** Default unique per cluster, e.g. batman-1234-1. */
  scope?: string;
  /** Default '/service/'. */
  namespace?: string;
  /** 'etcd3' (v3 API, default) or 'etcd' (v2 API). */
  dcs?: 'etcd3' | 'etcd';
  /** Seconds; defaults 20 / 2 / 5 (Patroni needs loop_wait + 2 * retry_timeout <= ttl). */
  ttl?: number;
  loopWait?: number;
  retryTimeout?: number;
  /** Default '3': Debian 12's patroni 3.0.2 on PATH; '4': Debian 13's 4.0.7 (install-deps.sh unpacks it). */
  patroni?: PatroniMajor;
  /** Default true: members serve TLS (ssl = on, self-signed cert); false: ssl off, Patroni's own default. */
  ssl?: boolean;
  /**
   * Default 'mixed' (md5user md5, scramuser scram-sha-256, everyone else trust). A single
   * method applies to every `host` line, replication too; unix-socket lines stay trust.
   */
  hba?: HbaMethod;
  /** Default false; true: the REST API over HTTPS with the self-signed cert (restCaFile). */
  restTls?: boolean;
  /** Default false; 'quorum' (Patroni 4's quorum commit) only with patroni '4'. */
  synchronousMode?: SynchronousMode;
  failsafeMode?: boolean;
  /** Initial tags per member name, e.g. { pg2: { nofailover: true } }. */
  tags?: Record<string, Record<string, unknown>>;
  /** Share an existing etcd (not stopped by cluster.stop()); default a fresh one. */
  etcd?: EtcdHandle;
}

export interface PatroniCluster {
  scope: string;
  namespace: string;
  dcs: 'etcd3' | 'etcd';
  etcd: EtcdHandle;
  members: ClusterMember[];
  dir: string;
  ttl: number;
  loopWait: number;
  retryTimeout: number;
  /** Self-signed certificate (CN and SAN 127.0.0.1) the members serve TLS with. */
  tlsCertFile: string;
  tlsKeyFile: string;
  /** What Patroni says it is (GET /patroni), e.g. '3.0.2' or '4.0.7'. */
  patroniVersion: string;
  ssl: boolean;
  hba: HbaMethod;
  restTls: boolean;
  synchronousMode: SynchronousMode;
  /** The CA to trust for the REST API when restTls: the self-signed certificate itself. */
  restCaFile: string;
  /** `{ ca }` for getClusterView/getMemberStatus/httpRequest on this cluster's restUrls. */
  restTrust: RestTrust;
  member(name: string): ClusterMember;
  /** The leader per GET /cluster on any reachable member, else the DCS leader key. */
  leader(): Promise<string | undefined>;
  /** Leader running as primary plus N streaming replicas (default members - 1); returns the leader's name. */
  waitForHealthy(opts?: { replicas?: number; timeoutMs?: number }): Promise<string>;
  waitForLeader(name: string, timeoutMs?: number): Promise<void>;
  /** `scheduledAt`: Patroni's scheduled switchover (`--scheduled`), done at that time. */
  switchover(candidate: string, opts?: { leader?: string; scheduledAt?: Date }): Promise<void>;
  /** SIGKILL of the leader's Patroni and its postmaster with all children; returns its name. */
  crashLeader(): Promise<string>;
  stopMember(name: string): Promise<void>;
  startMember(name: string): Promise<void>;
  restartMember(name: string): Promise<void>;
  /** Replaces that member's tags in patroni.yml, reloads Patroni, resolves once its REST API shows them. */
  setTags(name: string, tags: Record<string, unknown>): Promise<void>;
  editConfig(settings: Record<string, unknown>): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** psql -XAt on that member's unix socket; trimmed stdout. */
  sql(name: string, query: string, opts?: { user?: string; database?: string }): Promise<string>;
  patronictl(...args: string[]): Promise<string>;
  /** A key relative to the scope, e.g. 'leader' or 'members/pg0'. */
  dcsRead(key: string): Promise<string | undefined>;
  /** Log tails of every member (and etcd) for failure messages. */
  diagnostics(lines?: number): string;
  stop(): Promise<void>;
}

let clusterCount = 0;

/** GET /cluster roles of a member that replicates from the leader (quorum_standby: 4.x quorum mode). */
const replicaRoles = new Set(['replica', 'sync_standby', 'quorum_standby']);

function isPrimaryRole(role: string | undefined): boolean {
  return role === 'master' || role === 'primary';
}

function tagsShown(shown: Record<string, unknown> | undefined, wanted: Record<string, unknown>): boolean {
  const actual = shown ?? {};
  const wantedVisible = Object.entries(wanted).filter(([, v]) => v !== false && v !== null && v !== undefined);
  // Patroni leaves out false booleans, so compare only what it would show.
  return wantedVisible.every(([k, v]) => JSON.stringify(actual[k]) === JSON.stringify(v)) && Object.keys(actual).every((k) => wantedVisible.some(([wk]) => wk === k));
}

class RunningCluster implements PatroniCluster {
  readonly members: ClusterMember[];
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly restCaFile: string;
  readonly restTrust: RestTrust;
  /** Read once the leader answers (see startCluster). */
  patroniVersion = '';
  private stopped = false;

  constructor(
    readonly scope: string,
    readonly namespace: string,
    readonly dcs: 'etcd3' | 'etcd',
    readonly etcd: EtcdHandle,
    private readonly ownsEtcd: boolean,
    readonly dir: string,
    private readonly timing: DcsTiming,
    tls: { certFile: string; keyFile: string },
    private readonly processes: PatroniMemberProcess[],
    private readonly binDir: string,
    private readonly shape: ClusterShape,
    private readonly install: PatroniInstall,
  ) {
    this.members = processes.map((p) => p.member);
    this.tlsCertFile = tls.certFile;
    this.tlsKeyFile = tls.keyFile;
    this.restCaFile = tls.certFile;
    this.restTrust = shape.restTls ? { ca: fs.readFileSync(tls.certFile) } : {};
  }

  get ssl(): boolean {
    return this.shape.ssl;
  }
  get hba(): HbaMethod {
    return this.shape.hba;
  }
  get restTls(): boolean {
    return this.shape.restTls;
  }
  get synchronousMode(): SynchronousMode {
    return this.shape.synchronousMode;
  }

  get ttl(): number {
    return this.timing.ttl;
  }
  get loopWait(): number {
    return this.timing.loopWait;
  }
  get retryTimeout(): number {
    return this.timing.retryTimeout;
  }

  member(name: string): ClusterMember {
    return this.process(name).member;
  }

  private process(name: string): PatroniMemberProcess {
    const found = this.processes.find((p) => p.member.name === name);
    if (!found) throw new Error(`no member ${name} in cluster ${this.scope} (members: ${this.members.map((m) => m.name).join(', ')})`);
    return found;
  }

  diagnostics(lines = 25): string {
    const files: Record<string, string> = {};
    for (const m of this.members) files[m.name] = m.logFile;
    if (this.ownsEtcd) files.etcd = this.etcd.logFile;
    return logTails(files, lines);
  }

  /** GET /cluster from the first member that answers. */
  private async clusterView(): Promise<ClusterView> {
    const errors: string[] = [];
    for (const m of this.members) {
      try {
        return await getClusterView(m.restUrl, this.restTrust);
      } catch (error) {
        errors.push(`${m.name}: ${(error as Error).message}`);
      }
    }
    throw new Error(`no member's REST API answered GET /cluster (${errors.join('; ')})`);
  }

  async leader(): Promise<string | undefined> {
    let view: ClusterView | undefined;
    try {
      view = await this.clusterView();
    } catch {
      return this.dcsRead('leader');
    }
    return view.members.find((m) => m.role === 'leader' || m.role === 'standby_leader')?.name;
  }

  /** Throws a description of what is missing, so a timeout says why the cluster is not healthy. */
  private async healthyLeader(replicas: number): Promise<string> {
    const view = await this.clusterView();
    const summary = view.members.map((m) => `${m.name}:${m.role}/${m.state}`).join(' ');
    const leader = view.members.find((m) => m.role === 'leader' && m.state === 'running');
    if (!leader) throw new Error(`no running leader (${summary})`);
    const status = await getMemberStatus(this.member(leader.name).restUrl, this.restTrust);
    if (!isPrimaryRole(status.role)) throw new Error(`leader ${leader.name} has role ${status.role} (${summary})`);
    const streaming = new Set((status.replication ?? []).filter((r) => r.state === 'streaming').map((r) => r.application_name));
    const ready = view.members.filter(
      (m) =>
        m.name !== leader.name &&
        replicaRoles.has(m.role) &&
        // GET /cluster shows a replica's replication state in 3.0.4+ (4.0.7: streaming).
        (m.state === 'running' || m.state === 'streaming') &&
        streaming.has(m.name),
    );
    if (ready.length < replicas) {
      throw new Error(`${ready.length}/${replicas} replicas streaming from ${leader.name} [${ready.map((m) => m.name).join(',')}] (${summary})`);
    }
    return leader.name;
  }

  waitForHealthy(opts: { replicas?: number; timeoutMs?: number } = {}): Promise<string> {
    const replicas = opts.replicas ?? this.members.length - 1;
    return waitFor(`cluster ${this.scope} to have a leader and ${replicas} streaming replicas`, () => this.healthyLeader(replicas), {
      timeoutMs: opts.timeoutMs ?? 90_000,
      intervalMs: 250,
      diagnostics: () => this.diagnostics(),
    });
  }

  async waitForLeader(name: string, timeoutMs = 60_000): Promise<void> {
    const member = this.member(name);
    await waitFor(
      `${name} to be the running primary of ${this.scope}`,
      async () => {
        const status = await getMemberStatus(member.restUrl, this.restTrust);
        if (!isPrimaryRole(status.role) || status.state !== 'running') {
          throw new Error(`${name} is ${status.role}/${status.state}`);
        }
        const leader = await this.leader();
        if (leader !== name) throw new Error(`leader is ${leader ?? 'nobody'}`);
        return true;
      },
      { timeoutMs, intervalMs: 200, diagnostics: () => this.diagnostics() },
    );
  }

  async switchover(candidate: string, opts: { leader?: string; scheduledAt?: Date } = {}): Promise<void> {
    const leader = opts.leader ?? (await this.leader());
    if (!leader) throw new Error(`switchover to ${candidate}: cluster ${this.scope} has no leader`);
    const scheduled = opts.scheduledAt === undefined ? [] : ['--scheduled', opts.scheduledAt.toISOString()];
    await this.patronictl('switchover', '--leader', leader, '--candidate', candidate, ...scheduled, '--force');
  }

  async crashLeader(): Promise<string> {
    const leader = await this.leader();
    if (!leader) throw new Error(`crashLeader: cluster ${this.scope} has no leader`);
    await this.process(leader).crash();
    return leader;
  }

  async stopMember(name: string): Promise<void> {
    await this.process(name).stop();
  }

  async startMember(name: string): Promise<void> {
    this.process(name).start();
  }

  async restartMember(name: string): Promise<void> {
    await this.stopMember(name);
    await this.startMember(name);
  }

  async setTags(name: string, tags: Record<string, unknown>): Promise<void> {
    const proc = this.process(name);
    proc.reloadWithTags(tags);
    await waitFor(
      `${name}'s REST API to show tags ${JSON.stringify(tags)}`,
      async () => {
        const status = await getMemberStatus(proc.member.restUrl, this.restTrust);
        if (!tagsShown(status.tags, tags)) throw new Error(`tags are ${JSON.stringify(status.tags ?? {})}`);
        return true;
      },
      { timeoutMs: 30_000, diagnostics: () => this.diagnostics(10) },
    );
  }

  async editConfig(settings: Record<string, unknown>): Promise<void> {
    // patronictl parses each value as YAML, and JSON is YAML.
    const sets = Object.entries(settings).flatMap(([key, value]) => ['--set', `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`]);
    await this.patronictl('edit-config', '--force', ...sets);
  }

  async pause(): Promise<void> {
    await this.patronictl('pause', '--wait');
  }

  async resume(): Promise<void> {
    await this.patronictl('resume', '--wait');
  }

  private runAsPostgres(command: string, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<string> {
    const user = postgresOsUser();
    return runCommand(command, args, {
      cwd: this.dir,
      env: childEnvironment(this.dir, env),
      timeoutMs,
      ...(user ? { user } : {}),
    });
  }

  async sql(name: string, query: string, opts: { user?: string; database?: string } = {}): Promise<string> {
    const m = this.member(name);
    const out = await this.runAsPostgres(`${this.binDir}/psql`, [
      '-X',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      m.socketDir,
      '-p',
      String(m.port),
      '-U',
      opts.user ?? credentials.superuser.user,
      '-d',
      opts.database ?? 'postgres',
      '-c',
      query,
    ]);
    return out.trim();
  }

  patronictl(...args: string[]): Promise<string> {
    const configFile = this.members[0]?.configFile;
    if (!configFile) throw new Error('cluster has no members');
    const { command, args: prefix } = this.install.patronictl;
    return this.runAsPostgres(command, [...prefix, '-c', configFile, ...args], 120_000, this.install.env);
  }

  /** The version the leader's REST API reports; for a '4' cluster it must be 4.x, or the private install was not used. */
  async readPatroniVersion(leader: string): Promise<void> {
    const version = (await getMemberStatus(this.member(leader).restUrl, this.restTrust)).patroni?.version;
    if (!version) throw new Error(`GET ${this.member(leader).restUrl}/patroni has no patroni.version`);
    if (!version.startsWith(`${this.install.major}.`)) {
      throw new Error(`asked for patroni ${this.install.major}, but ${leader} runs patroni ${version}`);
    }
    this.patroniVersion = version;
  }

  dcsRead(key: string): Promise<string | undefined> {
    return readDcsKey(this.etcd.endpoint, this.dcs, dcsKeyPath(this.namespace, this.scope, key));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.processes.map((p) => p.destroy()));
    if (this.ownsEtcd) await this.etcd.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
    forgetDir(this.dir);
  }
}

/** Creates the roles and table the router tests use; waits until every replica has them. */
async function prepareDatabase(cluster: PatroniCluster, leader: string): Promise<void> {
  const { md5, scram, trust } = credentials;
  const stored = (role: 'default' | 'md5user' | 'scramuser'): string => `SET password_encryption = '${passwordEncryption(cluster.hba, role)}';`;
  await cluster.sql(
    leader,
    `${stored('md5user')} CREATE ROLE ${md5.user} LOGIN PASSWORD '${md5.password}';
     ${stored('scramuser')} CREATE ROLE ${scram.user} LOGIN PASSWORD '${scram.password}';
     ${stored('default')} CREATE ROLE ${trust.user} LOGIN PASSWORD '${trust.password}';
     CREATE TABLE ${probeTable} (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), note text);
     GRANT ALL ON ${probeTable} TO ${md5.user}, ${scram.user}, ${trust.user};
     GRANT ALL ON SEQUENCE ${probeTable}_id_seq TO ${md5.user}, ${scram.user}, ${trust.user};`,
  );
  for (const m of cluster.members.filter((x) => x.name !== leader)) {
    await waitFor(
      `${m.name} to replay the test roles and table`,
      async () => (await cluster.sql(m.name, `SELECT count(*) FROM pg_roles WHERE rolname = '${trust.user}' AND to_regclass('${probeTable}') IS NOT NULL`)) === '1',
      { timeoutMs: 30_000 },
    );
  }
}

/**
 * Starts etcd (unless given) and a Patroni cluster on free loopback ports under a fresh temp
 * dir: pg0 bootstraps, the others clone from it. Resolves once it is healthy and prepared
 * (roles md5user/scramuser/trustuser, table public.router_probe). Tears everything down if
 * start-up fails.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<PatroniCluster> {
  const memberCount = opts.members ?? 3;
  if (!Number.isInteger(memberCount) || memberCount < 1) throw new Error(`members must be >= 1, got ${memberCount}`);
  const timing: DcsTiming = { ttl: opts.ttl ?? 20, loopWait: opts.loopWait ?? 2, retryTimeout: opts.retryTimeout ?? 5 };
  checkTiming(timing);
  const dcs = opts.dcs ?? 'etcd3';
  const scope = opts.scope ?? `batman-${process.pid}-${++clusterCount}`;
  const namespace = opts.namespace ?? '/service/';
  const shape = resolveShape(opts);
  // Before anything starts: a missing patroni 4 install is an error naming install-deps.sh.
  const install = patroniInstall(shape.patroni);
  const binDir = newestPostgresBinDir();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-'));
  registerDir(dir);
  const processes: PatroniMemberProcess[] = [];
  let etcd = opts.etcd;
  let cluster: RunningCluster | undefined;
  try {
    if (etcd && dcs === 'etcd' && !etcd.v2) throw new Error(`dcs 'etcd' needs an etcd started with { v2: true }`);
    const [tls, ownEtcd] = await Promise.all([
      createSelfSignedCert(path.join(dir, 'tls')),
      etcd ? Promise.resolve(undefined) : startEtcd({ v2: dcs === 'etcd', dir: path.join(dir, 'etcd') }),
    ]);
    etcd ??= ownEtcd;
    if (!etcd) throw new Error('etcd did not start');
    const socketDir = path.join(dir, 'sockets');
    fs.mkdirSync(socketDir);
    giveToPostgres(dir, path.join(dir, 'tls'), socketDir);
    // The etcd dir stays root's; postgres only needs to traverse the top dir.
    for (let i = 0; i < memberCount; i++) {
      const name = `pg${i}`;
      const [port, restPort] = [await freePort(), await freePort()];
      const member: ClusterMember = {
        name,
        host: '127.0.0.1',
        port,
        restPort,
        restUrl: `${shape.restTls ? 'https' : 'http'}://127.0.0.1:${restPort}`,
        dataDir: path.join(dir, name, 'data'),
        configFile: path.join(dir, `${name}.yml`),
        logFile: path.join(dir, `${name}.log`),
        socketDir,
      };
      fs.mkdirSync(path.join(dir, name), { mode: 0o700 });
      giveToPostgres(path.join(dir, name));
      processes.push(
        new PatroniMemberProcess(
          member,
          {
            scope,
            namespace,
            name,
            dcs,
            etcdHostPort: `127.0.0.1:${etcd.clientPort}`,
            restPort,
            pgPort: port,
            dataDir: member.dataDir,
            binDir,
            socketDir,
            pgpassFile: path.join(dir, name, 'pgpass'),
            tls,
            timing,
            shape,
            failsafeMode: opts.failsafeMode ?? false,
            tags: opts.tags?.[name] ?? {},
          },
          dir,
          install,
        ),
      );
    }
    cluster = new RunningCluster(scope, namespace, dcs, etcd, !opts.etcd, dir, timing, tls, processes, binDir, shape, install);

    const [first, ...rest] = processes;
    if (!first) throw new Error('no members');
    first.start();
    await cluster.waitForLeader(first.member.name, 90_000);
    for (const p of rest) p.start();
    const leader = await cluster.waitForHealthy({ timeoutMs: 120_000 });
    await cluster.readPatroniVersion(leader);
    await prepareDatabase(cluster, leader);
    return cluster;
  } catch (error) {
    const diagnostics = cluster?.diagnostics() ?? '';
    if (cluster) await cluster.stop();
    else {
      await Promise.all(processes.map((p) => p.destroy()));
      if (etcd && !opts.etcd) await etcd.close();
      fs.rmSync(dir, { recursive: true, force: true });
      forgetDir(dir);
    }
    const message = (error as Error).message;
    // waitFor errors already carry the logs.
    throw new Error(`startCluster failed: ${message}${message.includes('--- last') ? '' : `\n${diagnostics}`}`);
  }
}
