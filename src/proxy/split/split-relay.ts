import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { PreparedStatementVerdicts } from '../../sql/prepared-statements.js';
import type { StatementEffect } from '../../sql/statement-effects.js';
import type { StatementVerdict } from '../../sql/statement-verdict.js';
import type { ClusterState, Member } from '../../topology/cluster-state.js';
import { FrameReader, FrameTooLarge, type Frame } from '../../wire/frame-reader.js';
import { BackendCode, FrontendCode, TransactionStatus } from '../../wire/message-codes.js';
import { endsWithTerminate, parseDataRow, parseError, parseParameterStatus } from '../../wire/parser.js';
import { joinMessages } from '../../wire/contiguous-bytes.js';
import { closeStatement, query, sync, terminate } from '../../wire/serializer.js';
import { parseWalPosition } from '../../topology/wal-position.js';
import type { BackendLink } from '../backend/backend-link.js';
import type { ReadAwaiting } from '../proxy-events.js';
import { type MemberReads, memberReadsOf, writeMemberChunk } from '../backend/member-reads.js';
import { ClientUnits, mayStartCopyIn, type ClientUnit } from './client-units.js';
import { CommitPositions } from './commit-positions.js';
import { REPLAY_POSITION_QUERY, ReadYourWrites, type ReplayPosition, type ReplicaVerdict } from './read-your-writes.js';
import { SessionState, freshLinkState } from './session-state.js';
import { SplitLink, type ClientSegment, type InternalSegment } from './split-link.js';
import { routeUnit, type LinkName, type UnitDecision, type UnitReason } from './unit-routing.js';

/** What the split relay asks of the rest of the router. */
export interface SplitDeps {
  client: Duplex;
  primary: { socket: net.Socket; member: Member; cancelKey: { processId: number; secret: Buffer } | undefined };
  classify(text: string, prepared: PreparedStatementVerdicts): StatementVerdict;
  consistency: 'read-your-writes' | 'eventual';
  /** Where the replica with this name has replayed to, as last read. */
  replayPosition(member: string): ReplayPosition | undefined;
  /** Resolves once a position read from now on is known (or could not be read). */
  refreshPosition(member: string): Promise<void>;
  /** A position this session's replay check read: the replica's latest for every session. */
  positionObserved(member: string, position: ReplayPosition): void;
  /** How long a read may wait for the replica to be known past the session's last write. */
  replicaWaitMs: number;
  /** Picks a replica and opens a link to it as the session's user; why not when it cannot. */
  openReplica(): Promise<BackendLink | { none: string }>;
  /** Whether the replica the link goes to still qualifies (checked on every new state). */
  replicaStillUsable(member: string): boolean;
  routed(link: LinkName, reason: UnitReason): void;
  /** A replica refused this text as a write: the listener sends it to the primary from now on. */
  retriedOnPrimary(text: string | undefined): void;
  /** A replay check in front of a read found the replica far enough ('served') or behind. */
  replayChecked(outcome: 'served' | 'behind'): void;
  /** A read waits before its link is chosen, for this (told once per thing it waits for). */
  readHeld(awaiting: ReadAwaiting): void;
  pinned(pin: string): void;
  /**
   * The primary link ended and the session cannot go on without it. `blocker`: when it ended
   * under the client's work (a transaction, a query, a COPY) or state that cannot move, which.
   */
  primaryLost(why: string, blocker?: string): void;
  /**
   * The primary link ended between transactions with nothing in flight: whether the session
   * will look for the next primary (attachPrimary) rather than end.
   */
  primaryGone(why: string): boolean;
  /** The client said goodbye while no primary link is there to hear it. */
  clientLeft(): void;
  /** A replica link may be opened at all (false: a primary-only session that relays by statement to be able to move). */
  replicas: boolean;
  log: Logger;
}

/** What a member says as it goes away under a session: Patroni's shutdown (57P01), a crash (57P02). */
const MEMBER_GOING_AWAY: ReadonlySet<string> = new Set(['57P01', '57P02']);

/** Parameters a replica reports that must not tell a session whose writes go to the primary that it is read-only. */
const REPLICA_ONLY_PARAMETERS: ReadonlySet<string> = new Set(['in_hot_standby', 'default_transaction_read_only']);

/** A client that pipelines more than this ahead of the answers is paused until the queue drains below QUEUE_RESUME_BYTES. */
const QUEUE_PAUSE_BYTES = 8 << 20;
const QUEUE_RESUME_BYTES = 1 << 20;

/** The verdicts' effects in order, in an array of the segment's own (a loop: flatMap's callback costs more on every unit). */
function effectsOf(verdicts: readonly StatementVerdict[]): StatementEffect[] {
  const effects: StatementEffect[] = [];
  for (const verdict of verdicts) for (const effect of verdict.effects) effects.push(effect);
  return effects;
}

function unitBytes(unit: ClientUnit): number {
  let n = 0;
  for (const f of unit.frames) n += f.raw.length;
  return n;
}

/** A unit sent to a link again, and the reason it is counted under: after a replica's 25006, or a replay check that found it behind. */
interface ForcedRoute {
  link: LinkName;
  reason: Extract<UnitReason, 'replica-refused' | 'consistency'>;
}

/** A replica link that failed to open is not tried again for this long. */
const REPLICA_RETRY_MS = 5_000;

/** Messages that carry rows or copy data to the client: the safety net cannot take a statement back after one. */
const ROWS: ReadonlySet<number> = new Set([BackendCode.DataRow, BackendCode.CopyOutResponse, BackendCode.CopyData, BackendCode.CopyBothResponse]);

/**
 * A `split` session's relay: the client's messages framed into units (a simple query, an
 * extended-protocol batch up to Sync), each sent whole to the primary link or, when every
 * statement in it is safe there and the session's consistency allows, to a replica link opened
 * on first need. Answers come back in order; the session state that must hold everywhere
 * (settings, prepared statements) is replayed on a link before it serves; a session that
 * makes state no other link can share stays on the primary from then on.
 */
export class SplitRelay {
  bytesIn = 0;
  bytesOut = 0;
  clientSaidGoodbye = false;
  /** Client bytes flow from the start; the client's FIN is handled here (see start()). */
  readonly clientFlowing = true;
  private readonly clientFrames = new FrameReader(1 << 30);
  private readonly units = new ClientUnits();
  private readonly queue: Array<{ unit: ClientUnit; forced?: ForcedRoute }> = [];
  private readonly state = new SessionState();
  private readonly prepared = new PreparedStatementVerdicts();
  private readonly consistency: ReadYourWrites;
  /** Which units the primary's position is read behind: those that commit the session's writes. */
  private readonly commits = new CommitPositions();
  /** Undefined while the session moves: units that need the primary wait in the queue. */
  private primary: SplitLink | undefined;
  private replica: SplitLink | undefined;
  /** A planned switchover is under way: nothing new goes to the primary once it is between transactions. */
  private paused = false;
  /** A new primary link is told the session's state first: the client's units wait until it has taken all of it. */
  private primaryRestoring = false;
  /** The writable primary of the last cluster state seen (undefined while there is none). */
  private lastPrimary: string | undefined;
  private replicaOpening = false;
  /** Bound once, not made for every unit routed. */
  private readonly classifyText = (text: string): StatementVerdict => this.deps.classify(text, this.prepared);
  private replicaRetryAt = 0;
  /** The link a COPY FROM STDIN runs on: the client's copy data goes straight there. */
  private copyIn: SplitLink | undefined;
  /** Effects of a transaction that is still open: they hold only if it commits. */
  private pendingTransactionEffects: StatementEffect[] = [];
  private stopped = false;
  /** The client's FIN came: it sends nothing more (a client process that died sends no Terminate first). */
  private clientEnded = false;
  private clientBlocked = false;
  /** The unit at the head of the queue waits for the replica to be known to have caught up. */
  private wait: { unit: ClientUnit; pending: boolean; refreshed: boolean; expired: boolean; told: Set<ReadAwaiting>; timer: NodeJS.Timeout } | undefined;
  /** Why the replica could not serve, at the last decision. */
  private replicaVerdict: ReplicaVerdict = true;
  /** Bytes of units queued and not sent yet: a pipelining client is paused above QUEUE_PAUSE_BYTES. */
  private queuedBytes = 0;
  private clientPaused = false;

  constructor(private readonly deps: SplitDeps) {
    this.consistency = new ReadYourWrites(deps.consistency);
    this.lastPrimary = deps.primary.member.name;
    this.primary = new SplitLink('primary', deps.primary.member, deps.primary.socket, TransactionStatus.Idle, freshLinkState, deps.primary.cancelKey);
  }

  /** Starts relaying; `clientRest` and `primaryRest` are bytes already read past the startup. */
  start(clientRest: Buffer, primaryRest: Buffer): void {
    if (this.primary !== undefined) this.attach(this.primary, primaryRest);
    this.deps.client.on('data', (chunk: Buffer) => this.onClient(chunk));
    // Unlike the byte relay's pipe, nothing here passes the client's FIN on: without this the
    // session and its member backends would stay open for good behind a half-closed socket.
    this.deps.client.on('end', () => {
      this.clientEnded = true;
      this.leaveOnceClientGone();
    });
    this.deps.client.resume();
    // Opened now, while the client reads its ReadyForQuery: its first read should not wait for it.
    this.openReplicaSoon();
    if (clientRest.length > 0) this.onClient(clientRest);
  }

  /** Between messages with nothing in flight: a FATAL of the router's own may be written. */
  get idle(): { isIdle(): boolean; isAtBoundary(): boolean } {
    const quiet = (): boolean => (this.primary?.quiet ?? true) && (this.replica?.quiet ?? true) && this.queue.length === 0 && !this.units.holding;
    return { isIdle: quiet, isAtBoundary: quiet };
  }

  /** The member's cancel key and address for the link running the client's query now. */
  activeLink(): { member: Member; cancelKey: { processId: number; secret: Buffer } | undefined } | undefined {
    const busy = [this.replica, this.primary].find((l) => l !== undefined && l.clientInFlight);
    const link = busy ?? this.primary;
    return link === undefined ? undefined : { member: link.member, cancelKey: link.cancelKey };
  }

  /** Why the session may not move to another primary now, or undefined when it may. */
  moveBlocker(): string | undefined {
    const primary = this.primary;
    if (primary !== undefined && primary.status !== TransactionStatus.Idle) return 'open-transaction';
    if (primary !== undefined && !primary.quiet) return 'query-running';
    if (this.copyIn !== undefined) return 'copy-running';
    return this.state.moveBlocker;
  }

  /** A planned switchover begins: units for the primary wait once it is between transactions (reads on a replica go on). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  /**
   * Lets go of the primary link between transactions (it stops being the primary): closed with
   * a Terminate, the session keeps its client and waits for attachPrimary. False, with the
   * link untouched, when it is not between transactions.
   */
  leavePrimary(): boolean {
    const primary = this.primary;
    if (primary === undefined) return true;
    if (primary.status !== TransactionStatus.Idle || !primary.quiet) return false;
    this.primary = undefined;
    primary.closed = true;
    primary.releaseReads();
    primary.socket.removeAllListeners('close');
    primary.socket.removeAllListeners('data');
    primary.socket.on('error', () => undefined);
    primary.socket.end(terminate());
    return true;
  }

  /**
   * The session's new primary link, logged in as its user: first asked whether it is out of
   * recovery, then told the session's settings, SQL prepared statements and named protocol
   * statements (their answers swallowed), then the waiting units go on. `failed` hears why
   * when the member refuses any of it; nothing the client sent has run there by then.
   */
  attachPrimary(link: BackendLink, failed: (why: string) => void): void {
    const { socket, rest } = link.release();
    const primary = new SplitLink('primary', link.member, socket, TransactionStatus.Idle, freshLinkState, link.cancelKey);
    this.primary = primary;
    this.lastPrimary = link.member.name;
    this.attach(primary, rest);
    this.primaryRestoring = true;
    let problem: string | undefined;
    const replay = ['SELECT pg_catalog.pg_is_in_recovery()', ...this.state.replayFor(freshLinkState)];
    this.internal(primary, query(replay.join('; ')), (result) => {
      if (result.error !== undefined) problem ??= `the session's settings could not be restored: ${result.error.message ?? result.error.code ?? 'error'}`;
      else if (result.rows[0]?.[0] !== 'f') problem ??= `${link.member.name} is in recovery`;
    });
    primary.applied = this.state.snapshot();
    const parses = this.state.allParses();
    for (const [name] of parses) primary.statements.add(name);
    // A Sync ends the restore either way: its ReadyForQuery says the link has taken everything.
    this.internal(primary, Buffer.concat([...parses.map(([, raw]) => raw), sync()]), (result) => {
      if (result.error !== undefined) problem ??= `the session's prepared statements could not be prepared again: ${result.error.message ?? 'error'}`;
      if (this.primary !== primary) return;
      if (problem !== undefined) return failed(problem);
      this.primaryRestoring = false;
      this.pump();
    });
  }

  /** Links beyond the primary one, for the admin snapshot. */
  get extraLinks(): number {
    return this.replica === undefined ? 0 : 1;
  }

  get pinnedBy(): string | undefined {
    return this.state.pinned;
  }

  /**
   * A new cluster state: a replica that no longer qualifies is let go of (once it is quiet);
   * a new primary resets the consistency token to "primary only" until replicas are on its timeline.
   */
  reconsider(state: ClusterState): void {
    const timeline = state.members.find((m) => m.name === state.writablePrimary)?.timeline;
    if (state.writablePrimary !== this.lastPrimary) {
      if (this.lastPrimary !== undefined) this.consistency.leaderChanged(undefined);
      this.lastPrimary = state.writablePrimary;
    }
    if (timeline !== undefined) this.consistency.primaryTimeline(timeline);
    const replica = this.replica;
    if (replica !== undefined && !this.deps.replicaStillUsable(replica.member.name)) this.dropReplica('it no longer qualifies for the replica route');
  }

  stop(): void {
    this.stopped = true;
    this.endWait();
    this.primary?.releaseReads();
    this.primary?.socket.unpipe();
    this.replica?.socket.destroy();
  }

  // --- the client side ---

  private onClient(chunk: Buffer): void {
    if (this.stopped) return;
    this.bytesIn += chunk.length;
    this.clientSaidGoodbye = endsWithTerminate(chunk);
    this.clientFrames.push(chunk);
    for (;;) {
      let frame;
      try {
        frame = this.clientFrames.next();
      } catch (error) {
        if (!(error instanceof FrameTooLarge)) throw error;
        this.deps.log.info({ err: error.message }, 'split session: client message too large');
        this.deps.client.destroy();
        return;
      }
      if (frame === undefined) break;
      if (this.copyIn !== undefined && (frame.code === FrontendCode.CopyData || frame.code === FrontendCode.CopyDone || frame.code === FrontendCode.CopyFail)) {
        this.copyIn.write(frame.raw);
        if (frame.code !== FrontendCode.CopyData) this.copyIn = undefined;
        continue;
      }
      for (const unit of this.units.push(frame)) {
        // A goodbye while the session waits for its next primary: nobody else needs to hear it.
        if (unit.kind === 'terminate' && this.primary === undefined) return this.deps.clientLeft();
        this.enqueue(unit);
      }
    }
    this.pump();
    if (this.queuedBytes > QUEUE_PAUSE_BYTES && !this.clientPaused) {
      this.clientPaused = true;
      this.deps.client.pause();
    }
  }

  private enqueue(unit: ClientUnit, forced?: ForcedRoute): void {
    this.queuedBytes += unitBytes(unit);
    if (forced === undefined) this.queue.push({ unit });
    else this.queue.unshift({ unit, forced });
  }

  // --- routing the queued units ---

  private pump(): void {
    while (this.queue.length > 0 && !this.stopped && this.copyIn === undefined) {
      // A replica answer held by the safety net may turn into a retry on the primary: wait for it.
      if (this.holdingSafetyNet() || this.wait?.pending === true) return;
      const next = this.queue[0]!;
      let decision = this.decide(next.unit, next.forced);
      const checked = decision.reason === 'consistency' && next.forced === undefined && this.mayCheckOnReplica(next.unit);
      if (checked) decision = { ...decision, link: 'replica', reason: 'read' };
      // A unit sent back to the primary (a check found the replica behind) goes there at once: nothing a wait learns would change its link.
      else if (next.forced === undefined && (decision.reason === 'consistency' || (decision.reason === 'no-replica' && this.replicaOpening)) && this.waitForReplica(next.unit))
        return;
      const link = decision.link === 'replica' ? this.replica : this.primary;
      if (link === undefined) return;
      // Between transactions during a switchover, and while a new primary link is told the session's state, the primary takes nothing new.
      if (link === this.primary && (this.primaryRestoring || (this.paused && link.status === TransactionStatus.Idle))) return;
      const other = link === this.primary ? this.replica : this.primary;
      // Answers must reach the client in order: never two links with the client's units in flight.
      if (other !== undefined && other.clientInFlight) return;
      this.queue.shift();
      this.queuedBytes -= unitBytes(next.unit);
      if (this.wait?.unit === next.unit) this.endWait();
      this.send(link, next.unit, decision, checked);
    }
    if (this.clientPaused && this.queuedBytes < QUEUE_RESUME_BYTES && !this.stopped) {
      this.clientPaused = false;
      this.deps.client.resume();
    }
    this.leaveOnceClientGone();
  }

  /** After the client's FIN, the session ends once what it sent before has been answered. */
  private leaveOnceClientGone(): void {
    // A Terminate before the FIN is already on its way to the member, whose close ends the session as before.
    if (this.clientEnded && !this.clientSaidGoodbye && !this.stopped && this.idle.isIdle()) this.deps.clientLeft();
  }

  private holdingSafetyNet(): boolean {
    return this.replica?.segments.some((s) => s.owner === 'client' && s.held !== undefined) ?? false;
  }

  private decide(unit: ClientUnit, forced: ForcedRoute | undefined): UnitDecision {
    const transactionOn = this.transactionLink();
    const open = this.primary?.openSegment !== undefined ? 'primary' : this.replica?.openSegment !== undefined ? 'replica' : undefined;
    const decision = routeUnit(unit, {
      classify: this.classifyText,
      prepared: this.prepared,
      transactionOn,
      openUnitOn: open,
      pinned: this.state.pinned,
      replicaReady: this.replicaReady,
      readOnlyByDefault: this.state.readOnlyByDefault,
    });
    if (forced !== undefined) return { ...decision, link: forced.link, reason: forced.reason };
    if (decision.link === 'replica' && this.replica === undefined) return { ...decision, link: 'primary', reason: 'no-replica' };
    return decision;
  }

  private transactionLink(): LinkName | undefined {
    if (this.replica !== undefined && this.replica.status !== TransactionStatus.Idle) return 'replica';
    if (this.primary !== undefined && this.primary.status !== TransactionStatus.Idle) return 'primary';
    return undefined;
  }

  /** Whether a replica may serve the next read; asks for a link when there is none yet. Bound once: routeUnit asks it. */
  private readonly replicaReady = (): true | { why: 'consistency' | 'no-replica' } => {
    if (this.state.pinned !== undefined || !this.deps.replicas) return { why: 'no-replica' };
    const replica = this.replica;
    if (replica === undefined) {
      this.openReplicaSoon();
      return { why: 'no-replica' };
    }
    this.replicaVerdict = this.consistency.replicaMayServe(this.deps.replayPosition(replica.member.name));
    return this.replicaVerdict === true ? true : { why: 'consistency' };
  };

  /**
   * Whether a read the last reading of the replica's position does not cover may go to the
   * replica anyway, behind a check of its position on the same link: one round trip instead of
   * a wait for a fresh reading. PostgreSQL runs the two queries in order, so a read that starts
   * after the check saw the session's position sees its writes; when the check finds the replica
   * behind, the read's answer is dropped and it runs on the primary (the safety net's retry,
   * hence only a simple query in autocommit). `replica_wait: 0` keeps such reads on the primary.
   */
  private mayCheckOnReplica(unit: ClientUnit): boolean {
    const replica = this.replica;
    return (
      this.replicaVerdict === 'behind' &&
      this.deps.replicaWaitMs > 0 &&
      unit.kind === 'query' &&
      replica !== undefined &&
      replica.status === TransactionStatus.Idle &&
      replica.openSegment === undefined
    );
  }

  /**
   * A read the replica cannot serve yet because the last reading of its position does not
   * cover the session's last write: wait (at most replicaWaitMs) for the write's position, then
   * once for a fresh reading, rather than load the primary with a read the replica can take
   * a moment later. Returns whether the unit waits.
   */
  private waitForReplica(unit: ClientUnit): boolean {
    const replica = this.replica;
    if (this.deps.replicaWaitMs <= 0) return false;
    let w = this.wait;
    if (w === undefined || w.unit !== unit) {
      if (w !== undefined) this.endWait();
      const started: NonNullable<SplitRelay['wait']> = {
        unit,
        pending: false,
        refreshed: false,
        expired: false,
        told: new Set(),
        timer: setTimeout(() => {
          started.expired = true;
          started.pending = false;
          this.pump();
        }, this.deps.replicaWaitMs),
      };
      w = this.wait = started;
    }
    if (w.expired) return false;
    const waiting = w;
    const held = (awaiting: ReadAwaiting): true => {
      if (!waiting.told.has(awaiting)) {
        waiting.told.add(awaiting);
        this.deps.readHeld(awaiting);
      }
      return true;
    };
    // The replica link is being opened; its outcome runs pump() again.
    if (replica === undefined) return this.replicaOpening && held('replica-link');
    // The write's position is on its way on the primary link; its answer runs pump() again.
    if (this.replicaVerdict === 'write-in-flight') return held('write-position');
    if ((this.replicaVerdict !== 'behind' && this.replicaVerdict !== 'unknown-position') || w.refreshed) return false;
    w.refreshed = true;
    w.pending = true;
    held('replica-position');
    void this.deps.refreshPosition(replica.member.name).then(() => {
      if (this.wait !== waiting) return;
      waiting.pending = false;
      this.pump();
    });
    return true;
  }

  private endWait(): void {
    if (this.wait !== undefined) clearTimeout(this.wait.timer);
    this.wait = undefined;
  }

  private openReplicaSoon(): void {
    if (this.replicaOpening || Date.now() < this.replicaRetryAt || this.stopped) return;
    this.replicaOpening = true;
    this.deps
      .openReplica()
      .then((opened) => {
        this.replicaOpening = false;
        if ('none' in opened) {
          this.replicaRetryAt = Date.now() + REPLICA_RETRY_MS;
          this.deps.log.debug({ reason: opened.none }, 'split session: no replica link for now');
          this.pump();
          return;
        }
        if (this.stopped || this.state.pinned !== undefined) {
          opened.close();
          return;
        }
        const { socket, rest } = opened.release();
        this.replica = new SplitLink('replica', opened.member, socket, TransactionStatus.Idle, freshLinkState, opened.cancelKey);
        this.attach(this.replica, rest);
        this.pump();
      })
      .catch((error: unknown) => {
        this.replicaOpening = false;
        this.replicaRetryAt = Date.now() + REPLICA_RETRY_MS;
        this.deps.log.info({ err: error instanceof Error ? error.message : String(error) }, 'split session: the replica link did not open');
        this.pump();
      });
  }

  /** What a unit takes with it (the session's state, a replay check, the write's position query) leaves in one write. */
  private send(link: SplitLink, unit: ClientUnit, decision: UnitDecision, checked = false): void {
    link.socket.cork();
    try {
      this.sendUnit(link, unit, decision, checked);
    } finally {
      link.socket.uncork();
    }
  }

  private sendUnit(link: SplitLink, unit: ClientUnit, decision: UnitDecision, checked: boolean): void {
    if (this.deps.replicas) this.deps.routed(link.name, decision.reason);
    this.catchUp(link, unit);
    const check: { segment?: ClientSegment } = {};
    if (checked) this.checkReplayFor(link, check);
    const effects = effectsOf(decision.verdicts);
    if (unit.kind === 'extended') {
      unit.parses.forEach((p, i) => {
        const verdict = decision.verdicts[i];
        if (verdict !== undefined) this.prepared.parsed(p.statement, verdict);
      });
      for (const frame of unit.frames) {
        if (frame.code !== FrontendCode.Parse) continue;
        const name = frame.body.toString('utf8', 0, Math.max(0, frame.body.indexOf(0)));
        if (name !== '') {
          this.state.parsed(name, frame.raw);
          link.statements.add(name);
        }
      }
      for (const name of unit.closedStatements) {
        this.prepared.closed(name);
        this.state.closed(name);
        link.statements.delete(name);
      }
    }
    const write =
      link.name === 'primary' &&
      (unit.kind === 'function-call' ||
        decision.reason === 'unknown-prepared' ||
        decision.reason === 'replica-refused' ||
        decision.verdicts.some((v) => v.destination === 'primary' && !v.anyLink));
    const ends = unit.kind === 'query' || unit.kind === 'function-call' || (unit.kind === 'extended' && unit.end === 'sync') ? 1 : 0;
    // Before this unit's segment joins the link: with nothing of the client's in flight there, its status is current.
    const statusBefore = link.clientInFlight ? undefined : link.status;
    const open = link.openSegment;
    let segment: ClientSegment;
    if (open !== undefined) {
      segment = open;
      segment.units.push(unit);
      segment.effects.push(...effects);
      segment.verdicts.push(...decision.verdicts);
      segment.rfqsLeft += ends;
      segment.open = ends === 0;
    } else {
      segment = {
        owner: 'client',
        rfqsLeft: ends,
        open: ends === 0,
        units: [unit],
        effects,
        verdicts: [...decision.verdicts],
        sent: false,
        failed: false,
        parseCompletes: 0,
        statusBefore: link.status,
        readAt: undefined,
        positionAfterward: false,
      };
      // The safety net: a replica's 25006 to an autocommit statement, before any row, is retried on the primary.
      if (link.name === 'replica' && link.status === TransactionStatus.Idle && ends === 1 && unit.kind === 'query') segment.held = [];
      link.segments.push(segment);
    }
    check.segment = segment;
    if (link.name === 'replica') {
      const position = this.deps.replayPosition(link.member.name);
      if (position !== undefined) segment.readAt = position;
    }
    link.write(joinMessages(unit.frames.map((f) => f.raw)));
    if (unit.kind === 'terminate') return;
    if (link.name === 'primary' && this.consistency.mode === 'read-your-writes' && this.commits.after({ write, ends: ends === 1, effects, statusBefore })) {
      this.consistency.writeSent();
      // Behind a COPY FROM STDIN PostgreSQL takes only copy data: the position is asked at its ReadyForQuery instead.
      const boundCopies = decision.verdicts.some((v) => v.reason === 'copy-from');
      if (mayStartCopyIn(unit, boundCopies)) segment.positionAfterward = true;
      else this.askPosition();
    }
  }

  /**
   * Brings a link to the session's state before it serves the unit: statements closed
   * elsewhere closed here too, settings and SQL prepared statements replayed, and the named
   * statements this unit binds prepared here from the client's own Parse.
   */
  private catchUp(link: SplitLink, unit: ClientUnit): void {
    const stale = this.state.staleOn(link.statements);
    if (stale.length > 0) {
      for (const name of stale) link.statements.delete(name);
      this.internal(link, Buffer.concat([...stale.map((name) => closeStatement(name)), sync()]), () => undefined);
    }
    const replay = this.state.replayFor(link.applied);
    if (replay.length > 0) {
      link.applied = this.state.snapshot();
      this.internal(link, query(replay.join('; ')), (result) => {
        if (result.error !== undefined) this.pin('replay-failed');
      });
    }
    if (unit.kind !== 'extended') return;
    for (const name of unit.boundStatements) {
      if (name === '' || link.statements.has(name) || unit.parses.some((p) => p.statement === name)) continue;
      const parse = this.state.parseOf(name);
      if (parse === undefined) continue;
      link.statements.add(name);
      this.internal(link, Buffer.concat([parse, sync()]), (result) => {
        if (result.error === undefined) return;
        link.statements.delete(name);
        this.deps.log.info({ statement: name, err: result.error.message }, 'split session: a prepared statement could not be prepared on the other link');
      });
    }
  }

  /** The replay check in front of a checked read (mayCheckOnReplica): its answer comes before the read's. */
  private checkReplayFor(link: SplitLink, check: { segment?: ClientSegment }): void {
    const before = this.deps.replayPosition(link.member.name);
    const askedAt = Date.now();
    this.internal(link, query(REPLAY_POSITION_QUERY), (result) => {
      // NULL once the member is no replica any more: behind as far as this read is concerned.
      const lsn = result.error === undefined ? parseWalPosition(result.rows[0]?.[0] ?? undefined) : undefined;
      // Judged as any reading is (a leader change meanwhile asks for the new timeline); the timeline is the last one read, which errs towards the primary.
      // It counts from when it was asked, as the watch's own readings do.
      const position = lsn === undefined ? undefined : { lsn, timeline: before?.timeline, at: askedAt };
      // The session's next reads, and every other session's, need no check of their own until the next write.
      if (position !== undefined && before !== undefined) this.deps.positionObserved(link.member.name, position);
      const segment = check.segment;
      if (segment === undefined) return;
      if (position !== undefined && this.consistency.replicaMayServe(position) === true) {
        segment.readAt = position;
        this.deps.replayChecked('served');
        return;
      }
      this.deps.replayChecked('behind');
      segment.held = undefined;
      segment.retry = 'behind';
    });
  }

  /**
   * `pg_current_wal_insert_lsn()` on the primary link, right behind the unit that commits the
   * session's writes (or once it has ended, for a unit that may run a COPY FROM STDIN): the
   * session's token once answered. The insert position, not pg_current_wal_lsn()'s write
   * position: under synchronous_commit = off a COMMIT returns before its record is written, so
   * the write position can still be short of it, and a replica there has not got the commit.
   */
  private askPosition(): void {
    const primary = this.primary;
    if (primary === undefined) return this.consistency.writePositionLost();
    this.internal(primary, query('SELECT pg_catalog.pg_current_wal_insert_lsn()::text'), (result) => {
      const lsn = parseWalPosition(result.rows[0]?.[0] ?? undefined);
      if (result.error !== undefined || lsn === undefined) this.consistency.writePositionLost();
      else this.consistency.wrote(lsn);
      this.pump();
    });
  }

  private internal(link: SplitLink, bytes: Buffer, done: InternalSegment['done']): void {
    link.segments.push({ owner: 'internal', rows: [], done });
    link.write(bytes);
  }

  // --- the links ---

  private attach(link: SplitLink, rest: Buffer): void {
    // A member socket connectTcp made hands its reads over as views of its own buffer (member-reads.ts).
    const reads = memberReadsOf(link.socket);
    if (reads?.claim((chunk) => this.onLink(link, chunk, reads)) === true) link.claimedReads = reads;
    else link.socket.on('data', (chunk: Buffer) => this.onLink(link, chunk));
    const lost = (why: string): void => this.linkLost(link, why);
    link.socket.on('error', (error: Error) => lost(error.message));
    // Member sockets are half-open capable: a member's FIN ('end') is its goodbye, no 'close' follows until ours.
    link.socket.on('end', () => lost('closed by the member'));
    link.socket.on('close', () => lost('closed by the member'));
    link.socket.resume();
    if (rest.length > 0) this.onLink(link, rest);
  }

  /** `reads`: the chunk is a view of the socket's read buffer, valid only during this call. */
  private onLink(link: SplitLink, chunk: Buffer, reads?: MemberReads): void {
    if (this.stopped || link.closed) return;
    link.reader.push(chunk);
    const out: Buffer[] = [];
    for (;;) {
      let frame;
      try {
        frame = link.reader.next();
      } catch (error) {
        if (!(error instanceof FrameTooLarge)) throw error;
        return this.linkLost(link, error.message);
      }
      if (frame === undefined) break;
      this.onLinkFrame(link, frame, out);
    }
    this.toClient(out, reads);
    if (reads !== undefined) link.keepOwnCopies();
  }

  private onLinkFrame(link: SplitLink, frame: Frame, out: Buffer[]): void {
    const head = link.segments[0];
    if (head === undefined) {
      if (link.name !== 'primary') return;
      // A member going away says so between units; a session that can move keeps it from the client and moves.
      // It is gone from here on: the client's next unit must wait for the move, not race the close that follows.
      if (
        frame.code === BackendCode.ErrorResponse &&
        this.state.moveBlocker === undefined &&
        link.status === TransactionStatus.Idle &&
        MEMBER_GOING_AWAY.has(parseError(frame.body).code ?? '')
      ) {
        return this.linkLost(link, `${link.member.name} is going away (${parseError(frame.body).code ?? ''})`);
      }
      // Asynchronous messages between units: notifications and notices of the primary reach the client.
      if (
        frame.code === BackendCode.NotificationResponse ||
        frame.code === BackendCode.NoticeResponse ||
        frame.code === BackendCode.ParameterStatus ||
        frame.code === BackendCode.ErrorResponse
      )
        out.push(frame.raw);
      return;
    }
    if (head.owner === 'internal') return this.onInternalFrame(link, head, frame);
    if (frame.code === BackendCode.ParameterStatus && link.name === 'replica') {
      const status = parseParameterStatus(frame.body);
      if (status !== undefined && REPLICA_ONLY_PARAMETERS.has(status.name)) return;
    }
    if (frame.code === BackendCode.CopyInResponse) this.copyIn = link;
    if (frame.code === BackendCode.ErrorResponse) head.failed = true;
    else if (frame.code === BackendCode.ParseComplete) head.parseCompletes++;
    if (head.held !== undefined) {
      if (frame.code === BackendCode.ErrorResponse && parseError(frame.body).code === '25006') {
        head.held = undefined;
        head.sent = false;
        head.retry = 'refused';
        return;
      }
      if (frame.code !== BackendCode.ReadyForQuery && !ROWS.has(frame.code)) {
        head.held.push(frame.raw);
        return;
      }
      out.push(...head.held);
      head.held = undefined;
    }
    if (head.retry !== undefined) {
      if (frame.code === BackendCode.ReadyForQuery) this.retryOnPrimary(link, head, frame);
      return;
    }
    head.sent = true;
    out.push(frame.raw);
    if (frame.code === BackendCode.ReadyForQuery) this.readyForQuery(link, head, frame);
  }

  private onInternalFrame(link: SplitLink, head: InternalSegment, frame: Frame): void {
    if (frame.code === BackendCode.DataRow) {
      const row = parseDataRow(frame.body);
      if (!('error' in row)) head.rows.push(row.columns.map((c) => (c === null ? null : c.toString('utf8'))));
    } else if (frame.code === BackendCode.ErrorResponse) {
      const { code, message } = parseError(frame.body);
      head.error = { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
    } else if (frame.code === BackendCode.ReadyForQuery) {
      link.status = (frame.body[0] ?? TransactionStatus.Idle) as TransactionStatus;
      link.segments.shift();
      head.done(head.error !== undefined ? { rows: head.rows, error: head.error } : { rows: head.rows });
      this.afterSegment(link);
    }
  }

  private readyForQuery(link: SplitLink, head: ClientSegment, frame: Frame): void {
    link.status = (frame.body[0] ?? TransactionStatus.Idle) as TransactionStatus;
    head.rfqsLeft--;
    if (head.rfqsLeft > 0 || head.open) return;
    link.segments.shift();
    if (head.positionAfterward) this.askPosition();
    this.followEffects(link, head);
    if (head.readAt !== undefined && !head.failed) this.consistency.readAt(head.readAt);
    this.afterSegment(link);
  }

  /** A replica refused a write it was sent by mistake (25006), before anything reached the client: the primary runs it. */
  private retryOnPrimary(link: SplitLink, head: ClientSegment, frame: Frame): void {
    link.status = (frame.body[0] ?? TransactionStatus.Idle) as TransactionStatus;
    link.segments.shift();
    const unit = head.units[0];
    if (head.retry === 'refused') this.deps.retriedOnPrimary(unit?.kind === 'query' ? unit.text : undefined);
    if (unit !== undefined) this.enqueue(unit, { link: 'primary', reason: head.retry === 'refused' ? 'replica-refused' : 'consistency' });
    this.afterSegment(link);
  }

  /** The effects of a finished segment: kept if it did not fail, and for a transaction only once it commits. */
  private followEffects(link: SplitLink, head: ClientSegment): void {
    if (head.failed) this.forgetUnconfirmedParses(link, head);
    else this.state.ran(head.verdicts);
    const inTransaction = link.status !== TransactionStatus.Idle;
    if (inTransaction) {
      if (!head.failed) this.pendingTransactionEffects.push(...head.effects);
      return;
    }
    // Most statements change nothing of the session: nothing more to follow.
    if (this.pendingTransactionEffects.length === 0 && (head.failed || head.effects.length === 0)) return;
    const ended = [...this.pendingTransactionEffects, ...(head.failed ? [] : head.effects)];
    this.pendingTransactionEffects = [];
    const rolledBack = head.statusBefore === TransactionStatus.Failed || head.effects.some((e) => e.kind === 'rollback');
    const kept = rolledBack ? ended.filter((e) => e.kind === 'pin' && e.scope === 'session') : ended;
    const pinnedBefore = this.state.pinned;
    const caughtUp = this.state.replayFor(link.applied).length === 0;
    this.state.applied(kept);
    this.prepared.apply(kept);
    // The link that ran the settings has them; the other replays them before it serves.
    if (caughtUp) link.applied = this.state.snapshot();
    if (this.state.pinned !== undefined && pinnedBefore === undefined) this.pin(this.state.pinned);
  }

  /**
   * A failed batch stops at its error: the Parses the member confirmed (one ParseComplete
   * each, in order) made their statements, the rest did not.
   */
  private forgetUnconfirmedParses(link: SplitLink, head: ClientSegment): void {
    const parses = head.units.flatMap((u) => (u.kind === 'extended' ? u.parses : []));
    for (const p of parses.slice(head.parseCompletes)) {
      if (p.statement === '') continue;
      link.statements.delete(p.statement);
      this.state.closed(p.statement);
      this.prepared.closed(p.statement);
    }
  }

  private pin(why: string): void {
    this.state.pinned ??= why;
    this.deps.pinned(why);
    this.dropReplica(`the session is pinned to the primary (${why})`);
  }

  private afterSegment(link: SplitLink): void {
    if (link === this.replica && this.replicaDropWanted !== undefined && link.quiet) this.closeReplica(this.replicaDropWanted);
    this.pump();
  }

  private replicaDropWanted: string | undefined;

  private dropReplica(why: string): void {
    const replica = this.replica;
    if (replica === undefined) return;
    if (replica.quiet && replica.status === TransactionStatus.Idle) this.closeReplica(why);
    else this.replicaDropWanted = why;
  }

  private closeReplica(why: string): void {
    const replica = this.replica;
    if (replica === undefined) return;
    this.deps.log.debug({ member: replica.member.name, reason: why }, 'split session: replica link closed');
    this.replica = undefined;
    this.replicaDropWanted = undefined;
    replica.closed = true;
    replica.socket.removeAllListeners('close');
    replica.socket.end(terminate());
  }

  private linkLost(link: SplitLink, why: string): void {
    if (link.closed || this.stopped) return;
    link.closed = true;
    link.socket.destroy();
    const wasPrimary = link === this.primary;
    if (wasPrimary) this.primary = undefined;
    else if (link === this.replica) this.replica = undefined;
    const clientWaiting = link.clientInFlight;
    // A position that was to be asked behind a COPY never will be: only the primary serves until the next write's is known.
    for (const s of link.segments) if (s.owner === 'client' && s.positionAfterward) this.consistency.writePositionLost();
    // The router's own exchanges on it will not be answered: their waiters hear so (a write's position read becomes "lost").
    const internals = link.segments.filter((s): s is InternalSegment => s.owner === 'internal');
    link.segments.length = 0;
    const lost = { rows: [], error: { message: `the link to ${link.member.name} was lost: ${why}` } };
    for (const internal of internals) internal.done(lost);
    if (wasPrimary) {
      // Between transactions with nothing in flight, a member that went away takes nothing of the client's with it.
      const blocker =
        link.status !== TransactionStatus.Idle ? 'open-transaction' : clientWaiting ? 'query-running' : this.copyIn !== undefined ? 'copy-running' : this.state.moveBlocker;
      if (blocker === undefined && this.deps.primaryGone(why)) return;
      return this.deps.primaryLost(why, blocker);
    }
    // A query of the client's was on the replica link: the session cannot go on in order.
    if (clientWaiting) this.deps.primaryLost(`the replica link to ${link.member.name} was lost during a query: ${why}`);
  }

  /** `reads`: what `out` holds may be views of that socket's read buffer. */
  private toClient(out: Buffer[], reads?: MemberReads): void {
    if (out.length === 0) return;
    const bytes = joinMessages(out);
    this.bytesOut += bytes.length;
    const room = reads === undefined ? this.deps.client.write(bytes) : writeMemberChunk(this.deps.client, bytes, reads);
    if (!room && !this.clientBlocked) {
      // Backpressure: a client that reads slowly stalls the members, not the router's memory.
      this.clientBlocked = true;
      this.primary?.socket.pause();
      this.replica?.socket.pause();
      this.deps.client.once('drain', () => {
        this.clientBlocked = false;
        this.primary?.socket.resume();
        this.replica?.socket.resume();
      });
    }
  }
}
