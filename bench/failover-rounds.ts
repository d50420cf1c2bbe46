import pg from 'pg';
import type { PatroniCluster } from '../test/cluster/index.js';
import { waitFor } from '../test/cluster/wait-for.js';
import { RoundPools, type PoolPlan } from './pool-round.js';
import type { RoundRows } from './pool-tally.js';
import type { HaproxyProcess } from './proxy-process.js';
import { WRITERS, type FailoverRound, type Writer as WriterName } from './results.js';
import { judgeWrites, lostAcknowledged, steadySince, type WriteAttempt, type WriteOutage } from './write-attempts.js';
import { WRITES_TABLE, Writer, type WriteTarget } from './writer.js';

export interface FailoverSetup {
  cluster: PatroniCluster;
  haproxy: HaproxyProcess;
  /** The proxies' primary listeners; a missing router is left out (and noted by the caller). */
  haproxyPrimary: WriteTarget;
  routerPrimary?: WriteTarget;
  user: string;
  database: string;
  /** Pooled writers beside the single ones, through the proxies they name. */
  pools?: PoolPlan;
  progress: (line: string) => void;
}

/** The member after the current leader, in member order: successive switchovers walk the cluster. */
export function nextCandidate(memberNames: readonly string[], leader: string): string {
  const at = memberNames.indexOf(leader);
  const next = memberNames[(at + 1) % memberNames.length];
  if (next === undefined || next === leader) throw new Error(`no switchover candidate besides ${leader}`);
  return next;
}

/** The round's rows: every id, and per writer how many rows each request number (seq) has. */
interface RoundTable {
  ids: Set<number>;
  seqCounts: Map<string, Map<number, number>>;
}

async function roundTableOf(target: WriteTarget, user: string, database: string, round: string): Promise<RoundTable> {
  const client = new pg.Client({ host: target.host, port: target.port, user, database, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const result = await client.query<{ id: string; writer: string; seq: string | null }>(`SELECT id, writer, seq FROM ${WRITES_TABLE} WHERE round = $1`, [round]);
    const table: RoundTable = { ids: new Set(), seqCounts: new Map() };
    for (const r of result.rows) {
      table.ids.add(Number(r.id));
      if (r.seq === null) continue;
      const counts = table.seqCounts.get(r.writer) ?? new Map<number, number>();
      counts.set(Number(r.seq), (counts.get(Number(r.seq)) ?? 0) + 1);
      table.seqCounts.set(r.writer, counts);
    }
    return table;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const emptyOutage = (): WriteOutage => ({
  longestGapMs: Number.NaN,
  gapFromMs: Number.NaN,
  gapToMs: Number.NaN,
  recovered: false,
  attempts: 0,
  successes: 0,
  errorsByCode: {},
  writesToNonPrimary: 0,
  failedConnects: 0,
  sampleMessages: {},
});

/**
 * When the crash was first seen: the earliest failure of any writer after the event. A SIGKILL
 * closes the member's sockets at once, so a statement in flight fails then; a request sent later
 * met the crash on a session that was idle (the kill call itself takes tens of ms, in which
 * every pooled connection sends its next request).
 */
export function crashSeenAt(attemptLists: ReadonlyArray<readonly WriteAttempt[]>, eventAt: number): number | undefined {
  let first: number | undefined;
  for (const attempts of attemptLists) for (const a of attempts) if (!a.ok && a.at >= eventAt && (first === undefined || a.at < first)) first = a.at;
  return first;
}

/**
 * One planned switchover or crash with a writer per proxy plus the oracle running across it.
 * The round ends when every writer has written without error for `steadyMs` and HAProxy's checks
 * route to the new leader only, so the next round starts from a settled cluster.
 */
export async function failoverRound(kind: 'switchover' | 'crash', round: number, setup: FailoverSetup): Promise<FailoverRound> {
  const { cluster, progress } = setup;
  const from = await cluster.waitForHealthy({ timeoutMs: 180_000 });
  await setup.haproxy.waitForPrimary('127.0.0.1', cluster.member(from).port, 60_000);
  const roundId = `${kind}-${round}-${Date.now()}`;
  const memberTargets: WriteTarget[] = cluster.members.map((m) => ({ name: m.name, host: m.host, port: m.port }));
  const writers = new Map<WriterName, Writer>();
  const opts = { user: setup.user, database: setup.database };
  writers.set('oracle', new Writer('oracle', memberTargets, roundId, { ...opts, timeoutMs: 1000 }));
  writers.set('haproxy', new Writer('haproxy', [setup.haproxyPrimary], roundId, opts));
  if (setup.routerPrimary) writers.set('router', new Writer('router', [setup.routerPrimary], roundId, opts));
  const pools = setup.pools ? new RoundPools(setup.pools, roundId, progress) : undefined;
  // Every attempt list the round waits on: the single writers' and the pools'.
  const attemptLists = () => [...[...writers].map(([name, w]) => [name, w.attempts] as const), ...(pools?.attemptsByPool() ?? [])];

  let to = '?';
  let eventAt = Date.now();
  let idleFrom = eventAt;
  let leaderChangeMs = Number.NaN;
  let crashed: string | undefined;
  try {
    // The pools open all their connections first, so every session is open (and idle between statements) at the event.
    await pools?.start();
    for (const w of writers.values()) w.start();
    await waitFor('every writer to write before the event', () => attemptLists().every(([, attempts]) => attempts.some((a) => a.step === 'insert' && a.ok)), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a baseline of normal writes

    await pools?.beforeEvent();
    eventAt = Date.now();
    idleFrom = eventAt;
    if (kind === 'switchover') {
      to = nextCandidate(
        cluster.members.map((m) => m.name),
        from,
      );
      progress(`  ${kind} ${round}: ${from} -> ${to}`);
      await cluster.switchover(to, { leader: from });
    } else {
      crashed = await cluster.crashLeader();
      // The member's processes have exited: a request sent from now on met the crash idle
      // (narrowed below to when the first client saw it).
      idleFrom = Date.now();
      progress(`  ${kind} ${round}: SIGKILL of ${crashed} (${idleFrom - eventAt} ms to kill it)`);
    }
    to = await waitFor(
      `a new leader after the ${kind} of ${from}`,
      async () => {
        const leader = await cluster.leader();
        return leader !== undefined && leader !== from ? leader : undefined;
      },
      { timeoutMs: cluster.ttl * 1000 + 60_000, intervalMs: 100 },
    );
    leaderChangeMs = Date.now() - eventAt;
    await cluster.waitForLeader(to, 60_000);

    const settle = async (): Promise<void> => {
      await waitFor(
        'every writer to write without errors for 2 s',
        () => {
          const now = Date.now();
          const lagging = attemptLists()
            .filter(([, attempts]) => !steadySince(attempts, now, 2000))
            .map(([name]) => name);
          if (lagging.length > 0) throw new Error(`not yet steady: ${lagging.join(', ')}`);
          return true;
        },
        { timeoutMs: 90_000, intervalMs: 100 },
      );
    };
    try {
      await settle();
      await setup.haproxy.waitForPrimary('127.0.0.1', cluster.member(to).port, 60_000);
      await settle();
    } catch (error) {
      progress(`  ${kind} ${round}: ${(error as Error).message.split('\n')[0]} (measured as is)`);
    }
  } finally {
    await Promise.all([...[...writers.values()].map((w) => w.stop()), pools?.stop()]);
  }

  if (crashed) {
    await cluster.startMember(crashed);
    await cluster.waitForHealthy({ timeoutMs: 180_000 });
  }

  const outages = {} as Record<WriterName, WriteOutage>;
  const lost = {} as Record<WriterName, number>;
  let table: RoundTable | undefined;
  try {
    const leader = cluster.member(to);
    table = await roundTableOf({ name: leader.name, host: leader.host, port: leader.port }, setup.user, setup.database, roundId);
  } catch (error) {
    progress(`  could not read back round ${roundId}: ${(error as Error).message}`);
  }
  for (const name of WRITERS) {
    const w = writers.get(name);
    outages[name] = w ? judgeWrites(w.attempts, eventAt) : emptyOutage();
    lost[name] = w && table ? lostAcknowledged(w.attempts, table.ids).length : Number.NaN;
  }
  const rowsOf = (label: string): RoundRows | undefined => (table ? { ids: table.ids, seqCounts: table.seqCounts.get(label) ?? new Map() } : undefined);
  if (crashed)
    idleFrom = Math.min(
      idleFrom,
      crashSeenAt(
        attemptLists().map(([, attempts]) => attempts),
        eventAt,
      ) ?? idleFrom,
    );
  const poolOutcomes = pools?.judge(eventAt, idleFrom, rowsOf);
  progress(
    `  ${kind} ${round} ${from} -> ${to} (leader after ${leaderChangeMs} ms): ` +
      WRITERS.map((n) => `${n} gap ${outages[n].longestGapMs} ms, ${outages[n].writesToNonPrimary} to non-primary, ${outages[n].failedConnects} failed connects`).join('; '),
  );
  for (const [proxy, p] of Object.entries(poolOutcomes ?? {})) {
    const moves = p.moves ? `, moved ${p.moves.moved}, not moved ${JSON.stringify(p.moves.notMoved)}` : '';
    progress(
      `    pool via ${proxy}: ${p.errors} errors ${JSON.stringify(p.errorsByCode)} (${p.idleErrors} on idle sessions), longest wait ${p.longestWaitMs} ms ` +
        `(sent at ${p.longestWaitSentMs} ms), gap ${p.longestGapMs} ms (${p.gapFromMs} to ${p.gapToMs} ms)${moves}, reopened ${p.reopened}, lost ${p.lostAcknowledged}, twice ${p.writtenTwice}`,
    );
  }
  return { kind, round, from, to, leaderChangeMs, outages, lostAcknowledged: lost, ...(poolOutcomes ? { pools: poolOutcomes, idleFromMs: idleFrom - eventAt } : {}) };
}
