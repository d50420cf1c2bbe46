import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ListenerSessions } from '../proxy/proxy-server.js';
import type { ProxyEvent, ProxyEvents } from '../proxy/proxy-events.js';
import { CounterCells } from './counter-cells.js';

export interface ProxyMetricsOptions {
  registry: Registry;
  /**
   * The proxy's sessions as they are, read at scrape time: the session and held gauges are
   * what the proxy holds then, never a running sum of events that could drift.
   */
  sessions?: () => readonly ListenerSessions[];
  /** The split listeners' classifier counters, read at scrape time. */
  classifiers?: () => ReadonlyArray<{ listener: string; hitRatio: number; parseSeconds: number }>;
  /** The members of a cluster now, so each has a session series (0 when idle). */
  membersOf?: (cluster: string) => readonly string[];
}

const P = 'patroni_router_';
const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

/**
 * What the proxy's own events and sessions say: connections, refusals, holds, fencing,
 * cancels, bytes, how sessions ended, split routing. Whatever moves per session is kept in
 * CounterCells (an event adds to a number; the labels are hashed once per series). Each
 * worker process has its own; the router's primary process sums them (`aggregator`).
 */
export class ProxyMetrics implements ProxyEvents {
  private readonly accepted = new CounterCells(['listener']);
  private readonly refusedTotal = new CounterCells(['listener', 'reason']);
  private readonly fencedTotal = new CounterCells(['listener', 'member']);
  private readonly cancels = new CounterCells(['outcome']);
  private readonly bytes = new CounterCells(['listener', 'direction']);
  private readonly sessionsEnded = new CounterCells(['listener', 'ending']);
  private readonly unitsRouted = new CounterCells(['listener', 'destination', 'reason']);
  private readonly readsRetried = new CounterCells(['listener']);
  private readonly replayChecks = new CounterCells(['listener', 'outcome']);
  private readonly readsHeld = new CounterCells(['listener', 'awaiting']);
  private readonly pins = new CounterCells(['listener', 'pin']);
  private readonly moves = new CounterCells(['listener']);
  private readonly notMoved = new CounterCells(['listener', 'reason']);
  private readonly holdWait: Histogram<'listener' | 'outcome'>;
  private readonly moveWait: Histogram<'listener'>;

  constructor(options: ProxyMetricsOptions) {
    const registers = [options.registry];
    const sessions = options.sessions ?? (() => []);
    const membersOf = options.membersOf ?? (() => []);
    const counter = <L extends string>(name: string, help: string, cells: CounterCells<L>, labelNames: L[]): void => {
      new Counter({
        name: `${P}${name}`,
        help,
        labelNames,
        registers,
        aggregator: 'sum',
        collect() {
          cells.writeTo(this);
        },
      });
    };
    /** A gauge of counts per listener and member, read from the sessions at scrape time; `countsOf` undefined: the listener has none. */
    const perMember = (name: string, help: string, countsOf: (l: ListenerSessions) => Record<string, number> | undefined): void => {
      new Gauge({
        name: `${P}${name}`,
        help,
        labelNames: ['listener', 'member'],
        registers,
        aggregator: 'sum',
        collect() {
          this.reset();
          for (const l of sessions()) {
            const counts = countsOf(l);
            if (counts === undefined) continue;
            // Every member of the listener's cluster has a series, 0 when idle, so a dashboard line does not vanish.
            for (const member of membersOf(l.cluster)) this.set({ listener: l.listener, member }, 0);
            for (const [member, n] of Object.entries(counts)) this.set({ listener: l.listener, member }, n);
          }
        },
      });
    };
    perMember('sessions', 'Open sessions with a backend connection, per listener and member.', (l) => l.byMember);
    counter('connections_accepted_total', 'Client connections accepted.', this.accepted, ['listener']);
    counter('connections_refused_total', 'Clients answered with a FATAL error by the router itself.', this.refusedTotal, ['listener', 'reason']);
    new Gauge({
      name: `${P}held_connections`,
      help: 'Connections waiting for a usable member (held for a candidate, or between attempts).',
      labelNames: ['listener'],
      registers,
      aggregator: 'sum',
      collect() {
        this.reset();
        for (const l of sessions()) this.set({ listener: l.listener }, l.held);
      },
    });
    perMember('split_replica_links', "Split sessions' open links to a replica, per listener and member.", (l) => l.split?.replicaLinks);
    this.holdWait = new Histogram({
      name: `${P}hold_wait_seconds`,
      help: 'How long held connections waited.',
      labelNames: ['listener', 'outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
      aggregator: 'sum',
    });
    counter('fenced_sessions_total', 'Sessions closed because their member stopped being eligible.', this.fencedTotal, ['listener', 'member']);
    counter('cancel_requests_total', 'CancelRequests received.', this.cancels, ['outcome']);
    counter('bytes_relayed_total', 'Bytes relayed, counted when a session ends.', this.bytes, ['listener', 'direction']);
    counter('sessions_ended_total', 'Sessions ended, by how they ended.', this.sessionsEnded, ['listener', 'ending']);
    counter('statements_routed_total', 'Units (a query, an extended-protocol batch) split sessions sent, by destination and reason.', this.unitsRouted, [
      'listener',
      'destination',
      'reason',
    ]);
    counter('replica_reads_retried_total', 'Statements a replica refused as writes (25006) before any row, run on the primary instead.', this.readsRetried, ['listener']);
    counter(
      'replay_checks_total',
      "Reads sent to a replica behind a check of its replay position (the last reading did not cover the session's writes), by outcome: served there, or behind and run on the primary.",
      this.replayChecks,
      ['listener', 'outcome'],
    );
    counter(
      'split_reads_held_total',
      "Reads a split session held back (at most replica_wait) before choosing their link, by what they waited for: the position of the session's last write, a fresh reading of the replica's replay position, or the replica link being opened.",
      this.readsHeld,
      ['listener', 'awaiting'],
    );
    counter('sessions_pinned_total', 'Split sessions that pinned themselves to the primary, by what pinned them.', this.pins, ['listener', 'pin']);
    counter(
      'sessions_moved_total',
      'Sessions that went on on a new primary with no error to the client: theirs went away, or their login ended on a member in hot standby.',
      this.moves,
      ['listener'],
    );
    counter(
      'sessions_not_moved_total',
      'Sessions on a primary that went away that could not move, by why (open-transaction, temp-object, no-secret, timeout, ...).',
      this.notMoved,
      ['listener', 'reason'],
    );
    this.moveWait = new Histogram({
      name: `${P}session_move_wait_seconds`,
      help: 'From losing the old primary to the new link being up, per moved session.',
      labelNames: ['listener'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
      aggregator: 'sum',
    });
    const classifiers = options.classifiers ?? (() => []);
    new Gauge({
      name: `${P}classifier_cache_hit_ratio`,
      help: 'Share of statements a split listener classified from its cache.',
      labelNames: ['listener'],
      registers,
      // Each worker has its own cache: across workers, the mean of their ratios.
      aggregator: 'average',
      collect() {
        this.reset();
        for (const c of classifiers()) this.set({ listener: c.listener }, c.hitRatio);
      },
    });
    new Counter({
      name: `${P}classifier_parse_seconds_total`,
      help: 'Time a split listener spent parsing statements it had not cached.',
      labelNames: ['listener'],
      registers,
      aggregator: 'sum',
      collect() {
        // The classifier keeps the running sum; the counter shows it as it is at the scrape.
        this.reset();
        for (const c of classifiers()) this.inc({ listener: c.listener }, c.parseSeconds);
      },
    });
  }

  connectionAccepted(e: ProxyEvent<'connectionAccepted'>): void {
    this.accepted.cell(e.listener).value++;
  }

  sessionStarted(): void {}

  sessionEnded(e: ProxyEvent<'sessionEnded'>): void {
    this.sessionsEnded.cell(e.listener, e.ending).value++;
    this.bytes.cell(e.listener, 'client_to_server').value += e.bytesIn;
    this.bytes.cell(e.listener, 'server_to_client').value += e.bytesOut;
  }

  refused(e: ProxyEvent<'refused'>): void {
    this.refusedTotal.cell(e.listener, e.kind).value++;
  }

  holdStarted(_e: ProxyEvent<'holdStarted'>): void {}

  holdEnded(e: ProxyEvent<'holdEnded'>): void {
    this.holdWait.observe({ listener: e.listener, outcome: e.outcome }, e.waitedMs / 1000);
  }

  fenced(e: ProxyEvent<'fenced'>): void {
    this.fencedTotal.cell(e.listener, e.member).value++;
  }

  cancel(e: ProxyEvent<'cancel'>): void {
    this.cancels.cell(e.outcome).value++;
  }

  unitRouted(e: ProxyEvent<'unitRouted'>): void {
    this.unitsRouted.cell(e.listener, e.destination, e.reason).value++;
  }

  readRetried(e: ProxyEvent<'readRetried'>): void {
    this.readsRetried.cell(e.listener).value++;
  }

  replayChecked(e: ProxyEvent<'replayChecked'>): void {
    this.replayChecks.cell(e.listener, e.outcome).value++;
  }

  readHeld(e: ProxyEvent<'readHeld'>): void {
    this.readsHeld.cell(e.listener, e.awaiting).value++;
  }

  sessionPinned(e: ProxyEvent<'sessionPinned'>): void {
    this.pins.cell(e.listener, e.pin).value++;
  }

  sessionMoved(e: ProxyEvent<'sessionMoved'>): void {
    this.moves.cell(e.listener).value++;
    this.moveWait.observe({ listener: e.listener }, e.waitedMs / 1000);
  }

  sessionNotMoved(e: ProxyEvent<'sessionNotMoved'>): void {
    this.notMoved.cell(e.listener, e.reason).value++;
  }
}
