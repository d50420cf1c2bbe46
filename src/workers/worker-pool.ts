import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerStatus } from '../admin/admin-context.js';
import type { RouterConfig } from '../config/types.js';
import type { ListenerHost } from '../listener-host.js';
import type { ProxyEvents } from '../proxy/proxy-events.js';
import type { ListenerChanges } from '../config/reload-plan.js';
import type { ListenerSessions, ListenerStatus } from '../proxy/proxy-server.js';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import { configForWorker } from './listener-shares.js';
import { deliverNotice, isFromWorker, type FromWorker, type MetricsJson, type ToWorker, type WorkerReport } from './messages.js';
import { PendingReplies } from './pending-replies.js';
import type { RelayedSnapshot } from './relayed-feed.js';
import { RestartBackoff } from './restart-backoff.js';
import { mergeListeners, mergeSessions } from './worker-reports.js';

export interface WorkerPoolOptions {
  count: number;
  /** What the workers run (each its share of the listeners' limits, listener-shares.ts). */
  config: RouterConfig;
  /** The clusters this process follows: every snapshot goes to every worker. */
  feeds: ReadonlyMap<string, ClusterFeed>;
  logger: Logger;
  logFormat?: 'json' | 'pretty';
  /** Where the events workers tell (worker-notices.ts) go: the event log, the failover timeline. */
  events: ProxyEvents;
  /** The primary process's registry: the pool's own metrics go there. */
  registry: Registry;
  /** The worker's entry point; default worker-main.js beside this file. */
  exec?: string;
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  state: WorkerStatus['state'];
  since: number;
  restarts: number;
  /** The worker asked for its start message (before that it cannot hear anything). */
  greeted: boolean;
  /** The configuration version it was given. */
  configVersion: number;
  listeners: ListenerStatus[];
  readonly backoff: RestartBackoff;
  restartTimer: NodeJS.Timeout | undefined;
  /** Settles the first start of this slot (start() waits for every slot). */
  firstStart: { resolve: () => void; reject: (err: Error) => void } | undefined;
}

type Answer = Extract<FromWorker, { type: 'reloaded' | 'reload-failed' | 'report' }>;

const START_TIMEOUT_MS = 60_000;
const REPORT_TIMEOUT_MS = 2_000;
const RELOAD_TIMEOUT_MS = 30_000;
/** After drain_timeout, terminated sessions linger up to 5 s for their FATAL (ProxyServer.drain); then this much more. */
const DRAIN_GRACE_MS = 10_000;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The primary process's side of `workers: N`: it forks N workers with the cluster module and
 * they accept on the listeners' shared sockets (round-robin by the primary, see start()). It
 * hands them the configuration and, in the order they were published, every snapshot of every
 * followed cluster; passes cancels between them; asks them for their sessions and metrics; starts
 * a worker that exited again, with backoff; and drains them all on shutdown.
 */
export class WorkerPool implements ListenerHost {
  private readonly slots: Slot[];
  private readonly replies = new PendingReplies<Answer>();
  private readonly latest = new Map<string, RelayedSnapshot>();
  private readonly unsubscribes: Array<() => void> = [];
  private readonly log: Logger;
  private readonly restartsTotal: Counter;
  private config: RouterConfig;
  private configVersion = 1;
  private seq = 0;
  private stopping = false;
  private allStopped: (() => void) | undefined;

  constructor(private readonly options: WorkerPoolOptions) {
    this.log = options.logger.child({ component: 'workers' });
    this.config = options.config;
    this.slots = Array.from({ length: options.count }, (_, i) => ({
      index: i + 1,
      worker: undefined,
      state: 'starting',
      since: 0,
      restarts: 0,
      greeted: false,
      configVersion: 0,
      listeners: [],
      backoff: new RestartBackoff(),
      restartTimer: undefined,
      firstStart: undefined,
    }));
    const slots = this.slots;
    new Gauge({
      name: 'patroni_router_workers',
      help: 'Worker processes by state (starting, ready, restarting, draining, stopped).',
      labelNames: ['state'],
      registers: [options.registry],
      aggregator: 'first',
      collect() {
        this.reset();
        for (const state of ['starting', 'ready', 'restarting', 'draining', 'stopped'] as const) this.set({ state }, slots.filter((s) => s.state === state).length);
      },
    });
    this.restartsTotal = new Counter({
      name: 'patroni_router_worker_restarts_total',
      help: 'Worker processes started again after one exited.',
      registers: [options.registry],
      aggregator: 'first',
    });
  }

  /**
   * Forks every worker and resolves once all of them listen; rejects (with every worker
   * stopped) if one cannot start. Round-robin scheduling: the primary accepts and hands each
   * connection to the next worker. Node's other policy (`none`, every worker accepting on the
   * shared socket) leaves the balance to the kernel, which on Linux piles connections on the
   * busiest worker; sessions are long and each costs its worker for its whole life, so an even
   * spread is worth the primary's accept. NODE_CLUSTER_SCHED_POLICY still overrides it.
   */
  async start(): Promise<void> {
    if (process.env['NODE_CLUSTER_SCHED_POLICY'] === undefined) cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.setupPrimary({ exec: this.options.exec ?? fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [], serialization: 'advanced' });
    for (const [scope, feed] of this.options.feeds) {
      const current = feed.current();
      if (current !== undefined) this.latest.set(scope, { scope, seq: ++this.seq, state: current, changes: [] });
      this.unsubscribes.push(feed.subscribe((change) => this.publish({ scope, seq: ++this.seq, state: change.next, changes: change.changes })));
    }
    const started = this.slots.map(
      (slot) =>
        new Promise<void>((resolve, reject) => {
          slot.firstStart = { resolve, reject };
        }),
    );
    for (const slot of this.slots) this.fork(slot);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the workers did not all start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(started), deadline]);
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.log.info(
      { workers: this.slots.map((s) => ({ worker: s.index, pid: s.worker?.process.pid })), schedulingPolicy: cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none' },
      'workers started',
    );
  }

  async reload(next: RouterConfig): Promise<ListenerChanges> {
    this.config = next;
    const version = ++this.configVersion;
    const ready = this.slots.filter((s) => s.state === 'ready' && s.worker !== undefined);
    const answers = await this.replies.ask(
      ready.map((s) => s.index),
      RELOAD_TIMEOUT_MS,
      (id) => {
        for (const slot of ready) {
          slot.configVersion = version;
          this.sendTo(slot, { type: 'reload', id, config: configForWorker(next, this.options.count, slot.index) });
        }
      },
    );
    const failures: string[] = [];
    let changes: ListenerChanges | undefined;
    for (const slot of ready) {
      const answer = answers.get(slot.index);
      if (answer?.type === 'reloaded') {
        changes ??= answer.changes;
        slot.listeners = answer.listeners;
      } else failures.push(`worker ${slot.index}: ${answer?.type === 'reload-failed' ? answer.error : 'no answer'}`);
    }
    if (failures.length > 0) throw new Error(`the workers did not all apply the reload (${failures.join('; ')})`);
    return changes ?? { added: [], removed: [], restarted: [], unchanged: [] };
  }

  /** Every worker drains (as a single-process router does); resolves once all have exited. */
  async drain(timeoutMs: number): Promise<void> {
    await this.stopAll(timeoutMs, timeoutMs + DRAIN_GRACE_MS);
  }

  async close(): Promise<void> {
    await this.stopAll(0, DRAIN_GRACE_MS);
  }

  listeners(): ListenerStatus[] {
    return mergeListeners(this.slots.filter((s) => s.state === 'ready').map((s) => s.listeners));
  }

  async sessions(): Promise<ListenerSessions[]> {
    const reports = await this.reports(false);
    return mergeSessions([...reports.values()].map((r) => r.sessions));
  }

  async workers(): Promise<WorkerStatus[]> {
    const reports = await this.reports(false);
    return this.slots.map((slot) => {
      const report = reports.get(slot.index);
      const status: WorkerStatus = { index: slot.index, state: slot.state, restarts: slot.restarts };
      if (slot.worker?.process.pid !== undefined) status.pid = slot.worker.process.pid;
      if (slot.worker !== undefined) status.since = slot.since;
      if (report !== undefined) status.sessions = report.sessions.reduce((n, l) => n + l.total, 0);
      return status;
    });
  }

  /** Every ready worker's metrics, for the primary to sum with its own. */
  async metrics(): Promise<MetricsJson[]> {
    const reports = await this.reports(true);
    return [...reports.values()].flatMap((r) => (r.metrics === undefined ? [] : [r.metrics]));
  }

  private async reports(withMetrics: boolean): Promise<Map<number, WorkerReport>> {
    const ready = this.slots.filter((s) => s.state === 'ready' && s.worker !== undefined);
    const answers = await this.replies.ask(
      ready.map((s) => s.index),
      REPORT_TIMEOUT_MS,
      (id) => {
        for (const slot of ready) this.sendTo(slot, { type: 'report', id, metrics: withMetrics });
      },
    );
    const out = new Map<number, WorkerReport>();
    for (const [index, answer] of answers) if (answer.type === 'report') out.set(index, answer.report);
    return out;
  }

  private fork(slot: Slot): void {
    slot.restartTimer = undefined;
    slot.greeted = false;
    slot.listeners = [];
    slot.state = 'starting';
    slot.since = Date.now();
    const worker = cluster.fork();
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (slot.worker === worker && isFromWorker(message)) this.onMessage(slot, message);
    });
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
    // A send to a worker whose channel just closed; its exit follows.
    worker.on('error', (err) => this.log.debug({ worker: slot.index, err: err.message }, 'worker channel error'));
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'hello':
        slot.greeted = true;
        slot.configVersion = this.configVersion;
        this.sendTo(slot, {
          type: 'start',
          index: slot.index,
          count: this.options.count,
          config: configForWorker(this.config, this.options.count, slot.index),
          ...(this.options.logFormat !== undefined ? { logFormat: this.options.logFormat } : {}),
          snapshots: [...this.latest.values()],
        });
        return;
      case 'ready':
        if (slot.state !== 'starting') return;
        slot.state = 'ready';
        slot.listeners = message.listeners;
        slot.firstStart?.resolve();
        slot.firstStart = undefined;
        // A reload while it was starting reached it in neither message: it gets one now.
        if (slot.configVersion !== this.configVersion) {
          slot.configVersion = this.configVersion;
          this.sendTo(slot, { type: 'reload', id: 0, config: configForWorker(this.config, this.options.count, slot.index) });
        }
        return;
      case 'failed':
        this.log.error({ worker: slot.index, err: message.error }, 'worker could not start');
        slot.firstStart?.reject(new Error(`worker ${slot.index} could not start: ${message.error}`));
        slot.firstStart = undefined;
        return;
      case 'reloaded':
        if (message.id === 0) slot.listeners = message.listeners;
        this.replies.answer(slot.index, message.id, message);
        return;
      case 'reload-failed':
        if (message.id === 0) this.log.error({ worker: slot.index, err: message.error }, 'worker could not apply the configuration it missed while starting');
        this.replies.answer(slot.index, message.id, message);
        return;
      case 'report':
        this.replies.answer(slot.index, message.id, message);
        return;
      case 'cancel':
        this.passCancel(slot, message);
        return;
      case 'notice':
        deliverNotice(message, this.options.events);
        return;
      case 'doubt':
        if (typeof message.member === 'string' && typeof message.why === 'string') this.options.feeds.get(message.scope)?.doubt?.(message.member, message.why);
        return;
    }
  }

  /** A CancelRequest that landed on `from`: to the worker that issued the key, or to every other one. */
  private passCancel(from: Slot, message: Extract<FromWorker, { type: 'cancel' }>): void {
    const { listener, processId, secret } = message;
    if (message.to === 'others') {
      for (const slot of this.slots) if (slot !== from) this.sendTo(slot, { type: 'cancel', reach: 'pass-through', listener, processId, secret });
      return;
    }
    const owner = this.slots[message.to - 1];
    if (owner === undefined || owner.state !== 'ready') {
      this.log.debug({ worker: message.to }, 'cancel request for a worker that is not running: its sessions are gone');
      return;
    }
    this.sendTo(owner, { type: 'cancel', reach: 'owner', listener, processId, secret });
  }

  private publish(snapshot: RelayedSnapshot): void {
    this.latest.set(snapshot.scope, snapshot);
    for (const slot of this.slots) if (slot.greeted) this.sendTo(slot, { type: 'snapshot', ...snapshot });
  }

  private sendTo(slot: Slot, message: ToWorker): void {
    const worker = slot.worker;
    if (worker === undefined || !worker.isConnected()) return;
    try {
      worker.send(message);
    } catch (err) {
      this.log.debug({ worker: slot.index, err: errorText(err) }, 'could not send to worker');
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.greeted = false;
    this.replies.forget(slot.index);
    if (this.stopping) {
      slot.state = 'stopped';
      if (this.slots.every((s) => s.worker === undefined)) this.allStopped?.();
      return;
    }
    if (slot.firstStart !== undefined) {
      slot.state = 'stopped';
      slot.firstStart.reject(new Error(`worker ${slot.index} exited while starting (${signal ?? `code ${code}`})`));
      slot.firstStart = undefined;
      return;
    }
    const delay = slot.backoff.next(Date.now() - slot.since);
    slot.state = 'restarting';
    slot.restarts++;
    this.restartsTotal.inc();
    this.log.warn({ worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; starting it again');
    slot.restartTimer = setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delay);
  }

  /**
   * Every worker told to drain in `timeoutMs`; any still running after `deadlineMs` is killed.
   * Snapshots keep going to them meanwhile: a draining session is still fenced.
   */
  private async stopAll(timeoutMs: number, deadlineMs: number): Promise<void> {
    this.stopping = true;
    try {
      await this.drainWorkers(timeoutMs, deadlineMs);
    } finally {
      for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    }
  }

  private async drainWorkers(timeoutMs: number, deadlineMs: number): Promise<void> {
    for (const slot of this.slots) {
      if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      if (slot.worker === undefined) slot.state = 'stopped';
    }
    const running = this.slots.filter((s) => s.worker !== undefined);
    if (running.length === 0) return;
    const stopped = new Promise<void>((resolve) => {
      this.allStopped = resolve;
    });
    for (const slot of running) {
      slot.state = 'draining';
      if (slot.greeted) this.sendTo(slot, { type: 'drain', timeoutMs });
      // Not greeted yet: it has nothing to drain.
      else slot.worker?.process.kill('SIGKILL');
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    if ((await Promise.race([stopped, late])) === 'late') {
      for (const slot of this.slots) {
        if (slot.worker === undefined) continue;
        this.log.warn({ worker: slot.index, pid: slot.worker.process.pid }, 'worker did not stop in time: killed');
        slot.worker.process.kill('SIGKILL');
      }
      await stopped;
    }
    clearTimeout(timer);
  }
}
