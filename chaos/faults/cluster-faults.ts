/**
 * The faults that hit the cluster under the router: a planned switchover, a SIGKILLed leader
 * (with probes held while no primary is known), etcd stopped or killed, a replica's replay
 * paused. Each returns once the fault itself is over; recovery is the runner's to wait for.
 */
import { waitFor } from '../../test/cluster/wait-for.js';
import type { CrashWindow } from '../invariants/acknowledged-writes.js';
import type { FaultContext } from './fault-context.js';
import type { FaultPlan } from './fault-plan.js';
import { HeldProbes } from './held-probe.js';

export interface FaultOutcome {
  target?: string;
  notes: string[];
  /** For a leader crash: when its asynchronous tail may have been lost. */
  crash?: CrashWindow;
}

/** The replicas of `leader`, by name, so an index from the plan picks the same one for the same cluster shape. */
function replicasOf(ctx: FaultContext, leader: string): string[] {
  return ctx.cluster.members
    .map((m) => m.name)
    .filter((n) => n !== leader)
    .sort();
}

/** Startup processes stopped right now, so a run torn down mid-fault can let them go on. */
const stoppedReplays = new Set<number>();

/** SIGCONT to every replay this run stopped and has not resumed (teardown on an error or SIGINT). */
export function resumeStoppedReplays(): void {
  for (const pid of stoppedReplays) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // Gone with its member.
    }
  }
  stoppedReplays.clear();
}

/** A fault that lasts a planned time: the wait is the fault itself, not a wait for a condition. */
function lasting(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function switchover(plan: Extract<FaultPlan, { kind: 'switchover' }>, ctx: FaultContext): Promise<FaultOutcome> {
  const leader = await ctx.cluster.waitForHealthy();
  const replicas = replicasOf(ctx, leader);
  const candidate = replicas[plan.candidateIndex % replicas.length] as string;
  ctx.progress(`  switchover ${leader} -> ${candidate}`);
  await ctx.cluster.switchover(candidate, { leader });
  await ctx.cluster.waitForLeader(candidate, 90_000);
  return { target: leader, notes: [`${leader} -> ${candidate}`] };
}

export async function leaderCrash(plan: Extract<FaultPlan, { kind: 'leader-crash' }>, ctx: FaultContext): Promise<FaultOutcome> {
  const { cluster, admin } = ctx;
  await cluster.waitForHealthy();
  const startedAt = Date.now();
  const crashed = await cluster.crashLeader();
  // Killed: nothing it acknowledged later than this can be lost with it.
  const crash: CrashWindow = { startedAt, seenAt: Date.now() };
  ctx.progress(`  SIGKILL of ${crashed}'s Patroni and postmaster`);
  const notes: string[] = [];
  // At once: the router holds them while it has no primary to give them, and also while it
  // still names the dead one (its REST API not answering is no proof) and retries it.
  const probes = new HeldProbes(plan.heldProbes, ctx.ports.probe, ctx.login);
  try {
    const gauges = await probes.checkGauges(admin);
    if (gauges.mismatch !== undefined) ctx.violations.report('untrue-gauges', Date.now(), `leader crash of ${crashed}: ${gauges.mismatch}`);
    notes.push(
      gauges.matched
        ? `held_connections{listener="probe"} showed the ${plan.heldProbes} held probes`
        : gauges.mismatch === undefined
          ? 'the probes were placed or refused before the gauges could be judged'
          : `gauges wrong: ${gauges.mismatch}`,
    );
    const seenGone = await waitFor(`the router to stop naming ${crashed} the writable primary`, async () => (await admin.writablePrimary()) !== crashed, {
      timeoutMs: cluster.ttl * 1000 + 30_000,
      intervalMs: 100,
    }).then(
      () => true,
      () => false,
    );
    notes.push(
      seenGone
        ? `the router stopped naming ${crashed} the writable primary ${Date.now() - crash.seenAt} ms after the kill`
        : `the router still named ${crashed} ${cluster.ttl + 30} s after the kill`,
    );
    const successor = await waitFor(
      `a new leader after the crash of ${crashed}`,
      async () => {
        const leader = await cluster.leader();
        return leader !== undefined && leader !== crashed ? leader : undefined;
      },
      { timeoutMs: cluster.ttl * 1000 + 60_000, intervalMs: 200 },
    );
    await cluster.waitForLeader(successor, 90_000);
    notes.push(`${successor} leads ${Date.now() - startedAt} ms after the crash`);
  } finally {
    const outcomes = await probes.finish(90_000);
    const tally = new Map<string, number>();
    for (const o of outcomes) tally.set(o, (tally.get(o) ?? 0) + 1);
    notes.push(`probes: ${[...tally].map(([o, n]) => `${n}× ${o}`).join(', ')}`);
    await cluster.startMember(crashed);
  }
  return { target: crashed, notes, crash };
}

export async function etcdRestart(plan: Extract<FaultPlan, { kind: 'etcd-restart' }>, ctx: FaultContext): Promise<FaultOutcome> {
  const { etcd } = ctx.cluster;
  await ctx.cluster.waitForHealthy();
  if (plan.how === 'kill') await etcd.kill();
  else await etcd.stop();
  ctx.progress(`  etcd ${plan.how === 'kill' ? 'killed' : 'stopped'} for ${plan.downMs / 1000} s`);
  try {
    await lasting(plan.downMs);
  } finally {
    await etcd.start();
  }
  return { target: 'etcd', notes: [`etcd ${plan.how}, down ${plan.downMs} ms`] };
}

export async function replayPause(plan: Extract<FaultPlan, { kind: 'replay-pause' }>, ctx: FaultContext): Promise<FaultOutcome> {
  const leader = await ctx.cluster.waitForHealthy();
  const replicas = replicasOf(ctx, leader);
  const replica = replicas[plan.replicaIndex % replicas.length] as string;
  // pg_wal_replay_pause() does not last: Patroni resumes a paused replay on its next loop. A
  // stopped startup process is replay stuck for real (as behind a conflicting lock), while
  // the WAL receiver goes on and Patroni sees nothing wrong.
  const pid = Number(await ctx.cluster.sql(replica, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'"));
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no startup process on ${replica}`);
  process.kill(pid, 'SIGSTOP');
  stoppedReplays.add(pid);
  ctx.progress(`  replay stopped on ${replica} (startup process ${pid}) for ${plan.pauseMs / 1000} s`);
  let seen = '?';
  try {
    await lasting(plan.pauseMs);
    const primaryLsn = await ctx.cluster.sql(leader, 'SELECT pg_current_wal_lsn()').catch(() => undefined);
    if (primaryLsn !== undefined) seen = await ctx.cluster.sql(replica, `SELECT pg_wal_lsn_diff('${primaryLsn}', pg_last_wal_replay_lsn())`).catch(() => '?');
  } finally {
    process.kill(pid, 'SIGCONT');
    stoppedReplays.delete(pid);
  }
  return { target: replica, notes: [`replay of ${replica} stopped ${plan.pauseMs} ms, then ${seen} bytes behind the primary`] };
}
