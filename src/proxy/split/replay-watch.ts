import type { Logger } from 'pino';
import type { AuthConfig } from '../../config/types.js';
import type { ClusterFeed } from '../../topology/cluster-feed.js';
import type { Member } from '../../topology/cluster-state.js';
import { parseWalPosition } from '../../topology/wal-position.js';
import type { BackendLink } from '../backend/backend-link.js';
import type { BackendConnector } from '../backend/connector.js';
import { REPLAY_POSITION_QUERY, type ReplayPosition } from './read-your-writes.js';
import { openRouterConnection } from './router-connection.js';

interface Watched {
  link?: BackendLink;
  opening?: boolean;
  /** The read in flight: when it was asked, and who waits for its answer. */
  inFlight?: { askedAt: number; waiters: Array<() => void> };
  /** Who asked for a read newer than the one in flight: served by the next. */
  nextWaiters: Array<() => void>;
  /** Do not try to connect again before this (ms). */
  retryAt?: number;
}

const RETRY_MS = 2_000;
/** A replica that takes longer than this to answer the position query loses its connection (a new one is opened). */
const ANSWER_TIMEOUT_MS = 1_000;

/**
 * How far each replica of one cluster has replayed, read every `intervalMs` (100 ms or
 * faster) on a connection of the router's own per replica: `pg_last_wal_replay_lsn()`. A
 * split session's read goes to a replica only once it has replayed past the session's last
 * commit; a position older than a few intervals counts as unknown.
 */
export class ReplayWatch {
  private readonly watched = new Map<string, Watched>();
  private readonly positions = new Map<string, ReplayPosition>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly feed: ClusterFeed,
    private readonly connector: BackendConnector,
    private readonly auth: AuthConfig,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Asks for a position read from now on (a session whose last write the last reading does not
   * cover yet); resolves once it is known or the read failed. Sessions asking together share one
   * query: at most one is in flight per replica, and one more queued behind it.
   */
  refresh(member: string): Promise<void> {
    const w = this.watched.get(member);
    const link = w?.link;
    if (w === undefined || link === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      w.nextWaiters.push(resolve);
      if (w.inFlight === undefined) this.ask(member, w, link);
    });
  }

  /**
   * A position a session read on its own link (a replay check in front of a read). Kept when
   * it is ahead of the watch's last reading, for a replica the watch follows: replay only goes
   * forward while a member stays a replica, and the watch's next reading replaces it as usual.
   */
  observed(member: string, position: ReplayPosition): void {
    if (!this.watched.has(member)) return;
    const last = this.positions.get(member);
    if (last !== undefined && (last.lsn > position.lsn || last.timeline !== position.timeline)) return;
    this.positions.set(member, position);
  }

  position(member: string): ReplayPosition | undefined {
    const p = this.positions.get(member);
    if (p === undefined || Date.now() - p.at > 5 * this.intervalMs + 200) return undefined;
    return p;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.watched.values()) this.forget(w);
    this.watched.clear();
  }

  private poll(): void {
    const state = this.feed.current();
    if (state === undefined) return;
    const replicas = state.members.filter((m) => m.role === 'replica' && m.state === 'running' && m.host !== undefined && m.invalid === undefined);
    const names = new Set(replicas.map((m) => m.name));
    for (const [name, w] of this.watched) {
      if (names.has(name)) continue;
      this.forget(w);
      this.watched.delete(name);
      this.positions.delete(name);
    }
    for (const m of replicas) this.pollOne(m);
  }

  private pollOne(member: Member): void {
    let w = this.watched.get(member.name);
    if (w === undefined) {
      w = { nextWaiters: [] };
      this.watched.set(member.name, w);
    }
    const watched = w;
    if (watched.link === undefined) {
      if (watched.opening === true || (watched.retryAt ?? 0) > Date.now()) return;
      watched.opening = true;
      openRouterConnection(member, this.connector, this.auth, 'replay positions')
        .then((link) => {
          watched.opening = false;
          if (this.timer === undefined || this.watched.get(member.name) !== watched) return link.close();
          watched.link = link;
          link.socket.once('close', () => {
            if (watched.link === link) watched.link = undefined;
          });
        })
        .catch((error: unknown) => {
          watched.opening = false;
          watched.retryAt = Date.now() + RETRY_MS;
          this.log.info({ member: member.name, err: error instanceof Error ? error.message : String(error) }, 'replay position connection failed');
        });
      return;
    }
    if (watched.inFlight === undefined) this.ask(member.name, watched, watched.link);
  }

  /** One position query; those who waited for a read asked from now on are answered by it. */
  private ask(name: string, w: Watched, link: BackendLink): void {
    const askedAt = Date.now();
    const flight = { askedAt, waiters: w.nextWaiters };
    w.inFlight = flight;
    w.nextWaiters = [];
    const timeout = setTimeout(() => link.close(), ANSWER_TIMEOUT_MS);
    const timeline = this.feed.current()?.members.find((m) => m.name === name)?.timeline;
    link
      .query(REPLAY_POSITION_QUERY)
      .then((result) => {
        const lsn = parseWalPosition(result.rows[0]?.[0] ?? undefined);
        // The position counts from when it was asked: the replica had replayed at least that far then.
        // A session's check asked later and already further (observed()) says more: keep it.
        const last = this.positions.get(name);
        const newer = last !== undefined && last.at > askedAt && last.lsn >= (lsn ?? 0) && last.timeline === timeline;
        if (lsn !== undefined && !newer) this.positions.set(name, { lsn, timeline, at: askedAt });
      })
      .catch(() => {
        link.close();
        if (w.link === link) w.link = undefined;
      })
      .finally(() => {
        clearTimeout(timeout);
        if (w.inFlight === flight) w.inFlight = undefined;
        for (const resolve of flight.waiters) resolve();
        if (w.nextWaiters.length > 0) {
          if (w.link !== undefined) this.ask(name, w, w.link);
          else this.answerAll(w);
        }
      });
  }

  /** Nobody waits on a replica the watch lets go of. */
  private forget(w: Watched): void {
    w.link?.close();
    this.answerAll(w);
  }

  private answerAll(w: Watched): void {
    const waiters = [...(w.inFlight?.waiters ?? []), ...w.nextWaiters];
    w.nextWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
