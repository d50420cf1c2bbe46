/** Where a replica stands, as the router last read it. */
export interface ReplayPosition {
  /** pg_last_wal_replay_lsn(), bytes. */
  lsn: number;
  timeline: number | undefined;
  /** ms when it was read. */
  at: number;
}

/** How the router reads a replica's position: the replay watch between reads, a replay check in front of one. */
export const REPLAY_POSITION_QUERY = 'SELECT pg_catalog.pg_last_wal_replay_lsn()::text';

export type ReplicaVerdict = true | 'unknown-position' | 'behind' | 'write-in-flight' | 'position-lost' | 'other-timeline';

/**
 * A session's consistency token (pure): the WAL position a replica must have replayed before
 * it may serve this session's next read. Raised by every write the session commits (the
 * primary's pg_current_wal_insert_lsn() right after it) and by every read (the position that read
 * saw: reads never go back in time). While a write's position is not known yet, only the
 * primary serves; after a change of primary, only replicas on the new primary's timeline may.
 */
export class ReadYourWrites {
  private token = 0;
  /** Writes sent whose position the router has not read back yet. */
  private unknownWrites = 0;
  /** A write's position could not be read: only the primary serves until the next write's is. */
  private lost = false;
  /** The primary changed: a replica must be on its timeline before it serves. */
  private timelineRequired: number | 'unknown' | undefined;

  constructor(readonly mode: 'read-your-writes' | 'eventual') {}

  /** A write was sent; its position will follow (wrote()). */
  writeSent(): void {
    if (this.mode !== 'eventual') this.unknownWrites++;
  }

  /** The primary's position after a write committed (or a read it served). */
  wrote(lsn: number): void {
    if (this.mode === 'eventual') return;
    if (this.unknownWrites > 0) this.unknownWrites--;
    this.lost = false;
    this.token = Math.max(this.token, lsn);
  }

  /** A write whose position could not be read back. */
  writePositionLost(): void {
    if (this.mode === 'eventual') return;
    if (this.unknownWrites > 0) this.unknownWrites--;
    this.lost = true;
  }

  /** A replica served a read at this position: later reads must not see less. */
  readAt(position: ReplayPosition): void {
    if (this.mode !== 'eventual') this.token = Math.max(this.token, position.lsn);
  }

  /** A new primary, on `timeline` (undefined: not known yet). */
  leaderChanged(timeline: number | undefined): void {
    if (this.mode !== 'eventual') this.timelineRequired = timeline ?? 'unknown';
  }

  /** The new primary's timeline became known. */
  primaryTimeline(timeline: number): void {
    if (this.timelineRequired === 'unknown') this.timelineRequired = timeline;
  }

  /** Whether a replica at `position` may serve the session's next read, or why not. */
  replicaMayServe(position: ReplayPosition | undefined): ReplicaVerdict {
    if (this.mode === 'eventual') return true;
    if (this.unknownWrites > 0) return 'write-in-flight';
    if (this.lost) return 'position-lost';
    if (position === undefined) return 'unknown-position';
    if (this.timelineRequired !== undefined) {
      if (this.timelineRequired === 'unknown' || position.timeline !== this.timelineRequired) return 'other-timeline';
    }
    return position.lsn >= this.token ? true : 'behind';
  }

  /** For /topology: the position a replica must have replayed. */
  get required(): number {
    return this.token;
  }
}
