import type net from 'node:net';
import type { StatementEffect } from '../../sql/statement-effects.js';
import type { StatementVerdict } from '../../sql/statement-verdict.js';
import type { Member } from '../../topology/cluster-state.js';
import { FrameReader } from '../../wire/frame-reader.js';
import type { MemberReads } from '../backend/member-reads.js';
import type { TransactionStatus } from '../../wire/message-codes.js';
import type { ClientUnit } from './client-units.js';
import type { ReplayPosition } from './read-your-writes.js';
import type { LinkSessionState } from './session-state.js';
import type { LinkName } from './unit-routing.js';

/** PostgreSQL's own limit on one message; a split session frames what it relays. */
const MAX_MESSAGE_LENGTH = 1 << 30;

/** Answers to the client's units on one link, up to their ReadyForQuery (or more, while a batch is open). */
export interface ClientSegment {
  owner: 'client';
  /** ReadyForQuery messages still to come for the units sent. */
  rfqsLeft: number;
  /** A unit ended with Flush: the batch goes on until its Sync. */
  open: boolean;
  units: ClientUnit[];
  /** Effects to follow once the segment completes without error. */
  effects: StatementEffect[];
  /** The verdicts of its statements: what they leave behind that a move could not carry. */
  verdicts: StatementVerdict[];
  /** Something of it reached the client (no more retry elsewhere). */
  sent: boolean;
  failed: boolean;
  /** ParseComplete answers seen: the first this many Parses of the segment made their statements. */
  parseCompletes: number;
  /** Held back while a replica's answer could still be 25006 (the safety net); undefined when not watching. */
  held?: Buffer[];
  /**
   * The rest of the replica's answer is dropped and the unit runs on the primary: the replica
   * answered 25006 ('refused'), or the replay check in front of a read found it behind ('behind').
   */
  retry?: 'refused' | 'behind';
  /** The link's transaction status before the segment: a 25006 in autocommit may be retried on the primary. */
  statusBefore: TransactionStatus;
  /** On a replica: the replay position it was sent on (or its check read), for the monotonic-read token. */
  readAt: ReplayPosition | undefined;
  /** The primary's position is to be read once this segment ends (it may run a COPY FROM STDIN, behind which nothing may go). */
  positionAfterward: boolean;
}

/** The router's own exchange on a link (a setting replayed, a statement prepared, a position read). */
export interface InternalSegment {
  owner: 'internal';
  rows: Array<Array<string | null>>;
  error?: { code?: string; message?: string };
  done(result: { rows: Array<Array<string | null>>; error?: { code?: string; message?: string } }): void;
}

export type Segment = ClientSegment | InternalSegment;

/** One of a split session's connections to a member, framed. */
export class SplitLink {
  readonly reader = new FrameReader(MAX_MESSAGE_LENGTH);
  readonly segments: Segment[] = [];
  status: TransactionStatus;
  /** The session's settings and SQL prepared statements as this link holds them. */
  applied: LinkSessionState;
  /** Named statements prepared on this link. */
  readonly statements = new Set<string>();
  closed = false;
  /** The socket's reads, while the split relay has claimed them: frames are views of its buffer until keepOwnCopies(). */
  claimedReads: MemberReads | undefined;

  constructor(
    readonly name: LinkName,
    readonly member: Member,
    readonly socket: net.Socket,
    status: TransactionStatus,
    applied: LinkSessionState,
    /** The member's own cancel key for this link. */
    readonly cancelKey: { processId: number; secret: Buffer } | undefined,
  ) {
    this.status = status;
    this.applied = applied;
  }

  /** Nothing in flight: the router may write its own messages, or switch the client elsewhere. */
  get quiet(): boolean {
    return this.segments.length === 0;
  }

  /** Some unit of the client's is sent here and not yet answered in full. */
  get clientInFlight(): boolean {
    return this.segments.some((s) => s.owner === 'client');
  }

  /** The client segment still taking units (a batch left open by a Flush). */
  get openSegment(): ClientSegment | undefined {
    const last = this.segments[this.segments.length - 1];
    return last?.owner === 'client' && last.open ? last : undefined;
  }

  /**
   * After a claimed read: what outlives it (a message's start that waits for the rest, answers
   * the safety net holds back) is copied out of the read buffer, which the next read overwrites.
   */
  keepOwnCopies(): void {
    this.reader.ownPending();
    for (const s of this.segments) {
      if (s.owner === 'client' && s.held !== undefined && s.held.length > 0) s.held = s.held.map((b) => Buffer.from(b));
    }
  }

  releaseReads(): void {
    this.claimedReads?.release();
    this.claimedReads = undefined;
  }

  write(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }
}
