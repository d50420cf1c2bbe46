import fs from 'node:fs';
import { childEnvironment, giveToPostgres, postgresOsUser } from './os-user.js';
import { patroniYaml, type PatroniMemberSpec } from './patroni-config.js';
import type { PatroniInstall } from './patroni-install.js';
import { killPostgresHard, stopPostgres } from './postmaster.js';
import { forgetDataDir, registerDataDir } from './process-registry.js';
import { SpawnedProcess } from './spawned-process.js';

export interface ClusterMember {
  /** pg0, pg1, ... */
  name: string;
  host: '127.0.0.1';
  /** PostgreSQL port. */
  port: number;
  restPort: number;
  /** http://127.0.0.1:<restPort>, or https:// when the cluster has restTls. */
  restUrl: string;
  dataDir: string;
  configFile: string;
  /** Patroni's and PostgreSQL's output. */
  logFile: string;
  /** unix_socket_directories of this member. */
  socketDir: string;
}

/** One member's Patroni process (and, through it, its postmaster). */
export class PatroniMemberProcess {
  private process: SpawnedProcess | undefined;

  constructor(
    readonly member: ClusterMember,
    private spec: PatroniMemberSpec,
    private readonly home: string,
    private readonly install: PatroniInstall,
  ) {
    registerDataDir(member.dataDir);
    this.writeConfig();
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get tags(): Record<string, unknown> {
    return this.spec.tags;
  }

  private writeConfig(): void {
    fs.writeFileSync(this.member.configFile, patroniYaml(this.spec), { mode: 0o600 });
    giveToPostgres(this.member.configFile);
  }

  start(): void {
    if (this.running) return;
    const user = postgresOsUser();
    this.process = SpawnedProcess.start({
      what: `patroni ${this.member.name}`,
      command: this.install.patroni.command,
      args: [...this.install.patroni.args, this.member.configFile],
      logFile: this.member.logFile,
      cwd: this.home,
      env: childEnvironment(this.home, this.install.env),
      ...(user ? { user } : {}),
      matches: this.member.configFile,
    });
  }

  /** Graceful stop of Patroni (which stops PostgreSQL, unless the cluster is paused). */
  async stop(graceMs = 30_000): Promise<void> {
    const proc = this.process;
    if (!proc) return;
    const status = await proc.stop(graceMs);
    // SIGKILLed after the grace period: its postgres would otherwise run on unmanaged.
    if (status.signal === 'SIGKILL') killPostgresHard(this.member.dataDir);
  }

  /** SIGKILL of Patroni and of PostgreSQL with all its children: the host died. */
  async crash(): Promise<void> {
    const proc = this.process;
    proc?.signalGroup('SIGKILL');
    killPostgresHard(this.member.dataDir);
    await proc?.waitForExit();
  }

  /** Rewrites the tags in patroni.yml and makes Patroni reload its configuration. */
  reloadWithTags(tags: Record<string, unknown>): void {
    this.spec = { ...this.spec, tags };
    this.writeConfig();
    this.process?.signalProcess('SIGHUP');
  }

  /** Fast, final teardown: nothing of this member survives (used when the cluster is discarded). */
  async destroy(): Promise<void> {
    await this.process?.kill();
    await stopPostgres(this.member.dataDir);
    forgetDataDir(this.member.dataDir);
  }
}
