/**
 * The routing rules end to end: a real 3-member Patroni cluster, a PatroniRouter following its
 * etcd keys and REST APIs, and real clients (node-postgres, psql, pgbench) through listeners.
 * Every test changes the cluster (tags, config, a stopped member, paused replay), waits until
 * the router's own state shows the change, then checks where fresh connections land.
 */
import { execFile } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import type { ClusterState, Member } from '../../src/topology/cluster-state.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const MB = 1024 * 1024;

const LISTENERS = [
  '  - {name: primary, port: 0, route: primary}',
  '  - {name: replicas, port: 0, route: replica}',
  '  - {name: replicas-or-primary, port: 0, route: replica, fallback: primary}',
  '  - {name: fresh, port: 0, route: replica, max_lag: 1MB, max_lag_fence_after: 1s, max_lag_recovery: 1s}',
  '  - {name: dc1, port: 0, route: replica, tags: {datacenter: dc1}, hold_timeout: 1s}',
  '  - {name: sync, port: 0, route: sync, hold_timeout: 1s}',
  '  - {name: async, port: 0, route: async, hold_timeout: 1s}',
  '  - {name: anything, port: 0, route: any}',
  '  - {name: nowhere-or-primary, port: 0, route: replica, tags: {datacenter: nowhere}, fallback: primary, hold_timeout: 1s}',
  '  - {name: nowhere, port: 0, route: replica, tags: {datacenter: nowhere}, hold_timeout: 1s}',
].join('\n');

interface Landing {
  member: string;
  inRecovery: boolean;
}

interface Refusal {
  code?: string;
  message: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('routing rules through the whole router on a real cluster', () => {
  let cluster: PatroniCluster;
  let router: RouterUnderTest;
  let leader: string;
  /** The two replicas, sorted by name. */
  let replicas: [string, string];

  const state = (): ClusterState => {
    const current = router.router.feeds().get(cluster.scope)?.current();
    if (current === undefined) throw new Error('the router has no topology yet');
    return current;
  };
  const seen = (name: string): Member => {
    const found = state().members.find((m) => m.name === name);
    if (found === undefined)
      throw new Error(
        `the router does not know ${name} (members: ${state()
          .members.map((m) => m.name)
          .join(', ')})`,
      );
    return found;
  };
  const memberAt = (port: number): string => cluster.members.find((m) => m.port === port)?.name ?? `unknown port ${port}`;

  /** Opens one connection through a listener, asks the backend who it is, closes. */
  async function land(listener: string, extra: Partial<pg.ClientConfig> = {}): Promise<Landing> {
    const client = new pg.Client(router.connection(listener, extra));
    await client.connect();
    try {
      const row = (await client.query<{ port: number; recovery: boolean }>('SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovery')).rows[0];
      if (row === undefined) throw new Error('no row');
      return { member: memberAt(row.port), inRecovery: row.recovery };
    } finally {
      await client.end();
    }
  }

  /** `n` fresh connections one after another: the member each landed on. */
  async function landings(listener: string, n: number, extra: Partial<pg.ClientConfig> = {}): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await land(listener, extra)).member);
    return out;
  }

  /** What a refused connection attempt says. */
  async function refusal(listener: string, extra: Partial<pg.ClientConfig> = {}): Promise<Refusal> {
    const client = new pg.Client(router.connection(listener, extra));
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      const e = err as { code?: string; message: string };
      return e.code === undefined ? { message: e.message } : { code: e.code, message: e.message };
    }
    await client.end();
    throw new Error(`listener ${listener} accepted a connection it should have refused`);
  }

  /**
   * psql through a listener. `sslmode` defaults to libpq's `prefer`: the router (no tls.cert here)
   * then passes TLS through and never sees the startup packet.
   */
  async function psql(listener: string, sql: string, opts: { options?: string; sslmode?: string } = {}): Promise<string> {
    const conninfo =
      `host=127.0.0.1 port=${router.port(listener)} user=postgres dbname=postgres` +
      (opts.sslmode ? ` sslmode=${opts.sslmode}` : '') +
      (opts.options ? ` options='${opts.options}'` : '');
    const out = await run('psql', ['-qXAt', '-v', 'ON_ERROR_STOP=1', conninfo, '-c', sql]);
    if (out.code !== 0) throw new Error(`psql through ${listener} exited ${out.code}: ${out.stderr.trim()}`);
    return out.stdout.trim();
  }

  async function pgbench(listener: string, args: string[]): Promise<{ processed: number; failed: number; output: string }> {
    const out = await run('pgbench', ['-h', '127.0.0.1', '-p', String(router.port(listener)), '-U', 'postgres', ...args, 'postgres']);
    const output = `${out.stdout}\n${out.stderr}`;
    if (out.code !== 0) throw new Error(`pgbench ${args.join(' ')} through ${listener} exited ${out.code}:\n${output}`);
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1] ?? NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? NaN);
    return { processed, failed, output };
  }

  /** Replaces a member's tags and waits until the router's state shows exactly them. */
  async function tag(name: string, tags: Record<string, string | boolean>): Promise<void> {
    await cluster.setTags(name, tags);
    const wanted = JSON.stringify(
      Object.fromEntries(
        Object.entries(tags)
          .filter(([, v]) => v !== false)
          .map(([k, v]) => [k, String(v)])
          .sort(),
      ),
    );
    await waitFor(`the router to see ${name} tagged ${JSON.stringify(tags)}`, () => {
      const raw = seen(name).tags.raw;
      return JSON.stringify(Object.fromEntries(Object.entries(raw).sort())) === wanted;
    });
  }

  /** Waits until the router sees every member running with the leader as writable primary. */
  async function routerSeesHealthy(): Promise<void> {
    await waitFor(
      'the router to see the leader writable and both replicas running',
      () => {
        const s = state();
        return s.writablePrimary === leader && replicas.every((r) => seen(r).state === 'running' && seen(r).role === 'replica');
      },
      { timeoutMs: 60_000 },
    );
  }

  /** Every replica has replayed what the leader has written so far. */
  async function replicasCaughtUp(): Promise<void> {
    const lsn = await cluster.sql(leader, 'SELECT pg_current_wal_lsn()');
    for (const r of replicas) {
      await waitFor(`${r} to replay up to ${lsn}`, async () => (await cluster.sql(r, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'`)) === 't');
    }
  }

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    leader = await cluster.waitForHealthy();
    const others = cluster.members
      .map((m) => m.name)
      .filter((n) => n !== leader)
      .sort();
    replicas = [others[0] ?? '', others[1] ?? ''];
    router = await startRouter(cluster, LISTENERS);
    await waitFor('the router to be ready', () => router.router.ready());
    await routerSeesHealthy();
  });

  afterAll(async () => {
    await router?.stop();
    await cluster?.stop();
  });

  it('writes land on the leader; reads spread round-robin over both replicas (node-postgres and psql)', async () => {
    const write = await land('primary');
    expect(write).toEqual({ member: leader, inRecovery: false });
    const viaPsql = await psql('primary', "INSERT INTO router_probe(note) VALUES ('routing psql') RETURNING inet_server_port() || ' ' || pg_is_in_recovery()");
    expect(viaPsql).toBe(`${cluster.member(leader).port} false`);

    const reads = await landings('replicas', 10);
    expect(new Set(reads)).toEqual(new Set(replicas));
    expect(reads).not.toContain(leader);
    // Round-robin alternates: no two consecutive connections on the same replica.
    for (let i = 1; i < reads.length; i++) expect(reads[i]).not.toBe(reads[i - 1]);

    const psqlRead = await psql('replicas', "SELECT inet_server_port() || ' ' || pg_is_in_recovery()");
    const [port, recovery] = psqlRead.split(' ');
    expect(replicas).toContain(memberAt(Number(port)));
    expect(recovery).toBe('true');
  });

  it('pgbench: read-only through the replica listener, TPC-B writes through the primary listener', async () => {
    const init = await run('pgbench', ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(router.port('primary')), '-U', 'postgres', 'postgres']);
    expect(init.code, init.stderr).toBe(0);
    await replicasCaughtUp();

    const reads = await pgbench('replicas', ['-n', '-S', '-T', '3', '-c', '4']);
    console.log(`pgbench -S through replicas: ${reads.processed} transactions, ${reads.failed} failed`);
    expect(reads.processed, reads.output).toBeGreaterThan(0);
    expect(reads.failed, reads.output).toBe(0);

    const writes = await pgbench('primary', ['-n', '-T', '3', '-c', '4']);
    console.log(`pgbench TPC-B through primary: ${writes.processed} transactions, ${writes.failed} failed`);
    expect(writes.processed, writes.output).toBeGreaterThan(0);
    expect(writes.failed, writes.output).toBe(0);
    // The history rows exist on the leader: the writes went there.
    expect(Number(await cluster.sql(leader, 'SELECT count(*) FROM pgbench_history'))).toBe(writes.processed);
  });

  it('noloadbalance: a tagged replica gets no new read connections until untagged', async () => {
    const [quiet, busy] = replicas;
    await tag(quiet, { noloadbalance: true });
    try {
      expect(seen(quiet).tags.noloadbalance).toBe(true);
      expect(await landings('replicas', 6)).toEqual(Array(6).fill(busy));
    } finally {
      await tag(quiet, {});
    }
    await waitFor(`the router to see ${quiet} load-balanced again`, () => !seen(quiet).tags.noloadbalance);
    expect(new Set(await landings('replicas', 6))).toEqual(new Set(replicas));
  });

  it('tag filters: a listener with tags {datacenter: dc1} reaches only the member tagged so', async () => {
    const [inDc1, inDc2] = replicas;
    await Promise.all([tag(inDc1, { datacenter: 'dc1' }), tag(inDc2, { datacenter: 'dc2' })]);
    try {
      expect(await landings('dc1', 5)).toEqual(Array(5).fill(inDc1));
      // The unfiltered listener still uses both.
      expect(new Set(await landings('replicas', 6))).toEqual(new Set(replicas));
    } finally {
      await Promise.all([tag(inDc1, {}), tag(inDc2, {})]);
    }
    // Untagged, nothing matches the filter: the listener holds (1 s) and refuses.
    const refused = await refusal('dc1');
    expect(refused.code).toBe('57P03');
    expect(refused.message).toContain(`no replica in cluster ${cluster.scope}`);
  });

  it('nofailover: a tagged replica still serves reads; writes follow the leader key, even to a leader tagged nofailover', async () => {
    const [tagged] = replicas;
    await Promise.all([tag(tagged, { nofailover: true }), tag(leader, { nofailover: true })]);
    try {
      expect(seen(tagged).tags.nofailover).toBe(true);
      expect(seen(leader).tags.nofailover).toBe(true);
      expect(new Set(await landings('replicas', 6))).toEqual(new Set(replicas));
      expect(state().leader).toBe(leader);
      for (let i = 0; i < 3; i++) expect(await land('primary')).toEqual({ member: leader, inRecovery: false });
    } finally {
      await Promise.all([tag(leader, {}), tag(tagged, {})]);
    }
  });

  it('replicatefrom: a cascading replica serves reads while its upstream runs, leaves the pool when it stops', async () => {
    const [upstream, cascading] = replicas;
    await tag(cascading, { replicatefrom: upstream });
    let upstreamStopped = false;
    try {
      expect(seen(cascading).tags.replicatefrom).toBe(upstream);
      expect(new Set(await landings('replicas', 6))).toEqual(new Set(replicas));

      await cluster.stopMember(upstream);
      upstreamStopped = true;
      await waitFor(
        `the router to see ${upstream} gone or stopped`,
        () => {
          const m = state().members.find((x) => x.name === upstream);
          return m === undefined || m.state !== 'running';
        },
        { timeoutMs: 30_000 },
      );
      // cascading is running but its upstream is not: no replica qualifies, the fallback takes reads.
      expect(seen(cascading).state).toBe('running');
      for (let i = 0; i < 3; i++) expect(await land('replicas-or-primary')).toEqual({ member: leader, inRecovery: false });
    } finally {
      if (upstreamStopped) await cluster.startMember(upstream);
      await tag(cascading, {});
    }
    await cluster.waitForHealthy({ timeoutMs: 60_000 });
    await routerSeesHealthy();
    expect(new Set(await landings('replicas-or-primary', 6))).toEqual(new Set(replicas));
  });

  it('max_lag: a replica whose replay is paused past 1 MB gets no new connections and its idle session is fenced', async () => {
    const [behind, current] = replicas;
    await waitFor(`the router to know ${behind}'s lag below 1 MB`, () => (seen(behind).lagBytes ?? Infinity) < MB);
    // An idle session on the replica that is about to fall behind.
    const clients: pg.Client[] = [];
    let idle: pg.Client | undefined;
    const idleEnd: { code?: string; message?: string; ended?: boolean } = {};
    for (let i = 0; i < 4 && idle === undefined; i++) {
      const client = new pg.Client(router.connection('fresh'));
      await client.connect();
      const port = (await client.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]?.port ?? 0;
      if (memberAt(port) === behind) idle = client;
      else clients.push(client);
    }
    await Promise.all(clients.map((c) => c.end()));
    if (idle === undefined) throw new Error(`no connection through "fresh" landed on ${behind}`);
    idle.on('error', (err: Error & { code?: string }) => {
      idleEnd.code ??= err.code;
      idleEnd.message ??= err.message;
    });
    idle.on('end', () => (idleEnd.ended = true));

    // Patroni 3 resumes a paused replay on its next cycle (PostgreSQL 14+), except in maintenance mode.
    await cluster.pause();
    try {
      await cluster.sql(behind, 'SELECT pg_wal_replay_pause()');
      await waitFor(`${behind} to pause replay`, async () => (await cluster.sql(behind, 'SELECT pg_get_wal_replay_pause_state()')) === 'paused');
      await cluster.sql(leader, "INSERT INTO router_probe(note) SELECT repeat('x', 1000) FROM generate_series(1, 5000)");
      await waitFor(
        `the router to see ${behind} lag more than 1 MB`,
        () => {
          const m = seen(behind);
          if ((m.lagBytes ?? 0) > MB) return true;
          throw new Error(
            `generation ${state().generation}: ${behind} lag ${m.lagBytes} (${m.lagSource}), replay ${m.replayLsn}, REST ${JSON.stringify(m.observed)}; leader REST ${JSON.stringify(seen(leader).observed)}`,
          );
        },
        { timeoutMs: 15_000, diagnostics: () => cluster.diagnostics(30) },
      );
      console.log(`${behind} lags ${seen(behind).lagBytes} bytes (${seen(behind).lagSource})`);
      expect(await landings('fresh', 5)).toEqual(Array(5).fill(current));
      await waitFor(`the idle session on ${behind} to be fenced`, () => idleEnd.code !== undefined || idleEnd.ended, { timeoutMs: 5_000 });
      console.log(`idle session on ${behind}: ${idleEnd.code ?? 'closed without a code'} ${idleEnd.message ?? ''}`);
      if (idleEnd.code !== undefined) {
        expect(idleEnd.code).toBe('57P01');
        expect(idleEnd.message).toContain(behind);
      }
      const fencedLine = router.logLines().find((l) => l['msg'] === 'session fenced' && l['member'] === behind && l['listener'] === 'fresh');
      expect(String(fencedLine?.['reason'])).toContain('lags');
    } finally {
      await cluster.sql(behind, 'SELECT pg_wal_replay_resume()');
      await cluster.resume();
      await idle.end().catch(() => {});
    }
    await waitFor(`the router to see ${behind} caught up`, () => (seen(behind).lagBytes ?? Infinity) < MB, { timeoutMs: 15_000 });
    // Back in the pool once it has stayed under max_lag for max_lag_recovery (1 s).
    await waitFor(`${behind} to take new connections again`, async () => new Set(await landings('fresh', 4)).size === 2, { timeoutMs: 10_000, intervalMs: 300 });
  });

  it('synchronous_mode: sync reaches only the sync standby, async only the other; a replica listener honours target=sync', async () => {
    // Off: nobody is synchronous, so the sync listener holds and refuses, naming the reason.
    const off = await refusal('sync');
    expect(off.code).toBe('57P03');
    expect(off.message).toContain('synchronous_mode is off');

    await cluster.editConfig({ synchronous_mode: true });
    try {
      const standby = await waitFor(
        'the router to see a sync standby',
        () => {
          const s = state();
          return (s.config.synchronousMode && s.sync.leader === leader && s.sync.standbys.length === 1 && s.sync.standbys[0]) || undefined;
        },
        { timeoutMs: 30_000 },
      );
      const other = replicas.find((r) => r !== standby) ?? '';
      expect(replicas).toContain(standby);
      expect(await landings('sync', 4)).toEqual(Array(4).fill(standby));
      expect(await landings('async', 4)).toEqual(Array(4).fill(other));
      expect(await landings('replicas', 4, { options: '-c patroni_router.target=sync' })).toEqual(Array(4).fill(standby));
      expect(await landings('replicas', 4, { options: '-c patroni_router.target=async' })).toEqual(Array(4).fill(other));
      const viaPsql = await psql('replicas', 'SELECT inet_server_port()', { options: '-c patroni_router.target=sync', sslmode: 'disable' });
      expect(memberAt(Number(viaPsql))).toBe(standby);
    } finally {
      await cluster.editConfig({ synchronous_mode: false });
    }
    await waitFor(
      'the router to see synchronous_mode off and no sync standby',
      () => {
        const s = state();
        return !s.config.synchronousMode && s.sync.standbys.length === 0;
      },
      { timeoutMs: 30_000 },
    );
    expect(new Set(await landings('async', 6))).toEqual(new Set(replicas));
  });

  it('per-connection target: refused outside the listener, honoured inside it, and never shown to the backend', async () => {
    const refused = await refusal('replicas', { options: '-c patroni_router.target=primary' });
    expect(refused.code).toBe('08004');
    expect(refused.message).toContain('"replicas"');
    expect(refused.message).toContain('primary');

    expect(await land('anything', { options: '-c patroni_router.target=primary' })).toEqual({ member: leader, inRecovery: false });
    const viaPsql = await psql('anything', "SELECT inet_server_port() || ' ' || pg_is_in_recovery()", { options: '-c patroni_router.target=primary', sslmode: 'disable' });
    expect(viaPsql).toBe(`${cluster.member(leader).port} false`);

    // The option is stripped; other settings in the same options string still reach the backend.
    const client = new pg.Client(router.connection('anything', { options: '-c patroni_router.target=replica -c application_name=routing-test' }));
    await client.connect();
    try {
      const row = (
        await client.query<{ target: string | null; app: string; recovery: boolean }>(
          "SELECT current_setting('patroni_router.target', true) AS target, current_setting('application_name') AS app, pg_is_in_recovery() AS recovery",
        )
      ).rows[0];
      expect(row).toEqual({ target: null, app: 'routing-test', recovery: true });
      await expect(client.query('SHOW patroni_router.target')).rejects.toThrow(/unrecognized configuration parameter/);
    } finally {
      await client.end();
    }
  });

  it('fallback: with no replica to use, reads go to the primary; without a fallback the listener holds, then refuses', async () => {
    const [first, second] = replicas;
    await Promise.all([tag(first, { noloadbalance: true }), tag(second, { noloadbalance: true })]);
    try {
      for (let i = 0; i < 3; i++) expect(await land('replicas-or-primary')).toEqual({ member: leader, inRecovery: false });
    } finally {
      await Promise.all([tag(first, {}), tag(second, {})]);
    }

    const started = Date.now();
    const refused = await refusal('nowhere');
    const waited = Date.now() - started;
    expect(refused.code).toBe('57P03');
    expect(refused.message).toContain('"nowhere"');
    expect(refused.message).toContain(`no replica in cluster ${cluster.scope}`);
    expect(refused.message).toContain('datacenter');
    expect(waited).toBeGreaterThanOrEqual(900);
  });

  it('fallback on a tag-filtered listener: no replica matches, so reads go to the primary, wherever it is', async () => {
    expect(await land('nowhere-or-primary')).toEqual({ member: leader, inRecovery: false });
  });

  it('per-connection target with libpq defaults (sslmode=prefer) works when the router terminates TLS', async () => {
    // With TLS passed through, the router picks the backend before the (encrypted) startup
    // packet and cannot see the option (README: "Routes"); terminating TLS makes it visible.
    const terminating = await startRouter(cluster, '  - {name: anything, port: 0, route: any}', {
      extraYaml: `tls: {cert: ${cluster.tlsCertFile}, key: ${cluster.tlsKeyFile}}\n`,
    });
    try {
      await waitFor('the TLS-terminating router to be ready', () => terminating.router.ready());
      // Three in a row: were the target ignored, round-robin over the 3 members would show a replica.
      for (let i = 0; i < 3; i++) {
        const conninfo = `host=127.0.0.1 port=${terminating.port('anything')} user=postgres dbname=postgres options='-c patroni_router.target=primary'`;
        const out = await run('psql', ['-qXAt', '-v', 'ON_ERROR_STOP=1', conninfo, '-c', "SELECT inet_server_port() || ' ' || pg_is_in_recovery()"]);
        expect(out.stderr).toBe('');
        expect(out.stdout.trim()).toBe(`${cluster.member(leader).port} false`);
      }
    } finally {
      await terminating.stop();
    }
  });
});
