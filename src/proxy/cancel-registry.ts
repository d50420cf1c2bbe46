import { randomBytes, randomInt } from 'node:crypto';

/** A cancel key as the protocol carries it: a process id and a secret. */
export interface CancelKey {
  processId: number;
  secret: Buffer;
}

/** What the registry hands a CancelRequest to: the session that issued the key. */
export interface CancelOwner {
  /** Cancel whatever the session runs now, on whichever member that is. */
  cancelRunningQuery(): void;
}

export interface IssuedKey {
  key: CancelKey;
  listener: string;
  owner: CancelOwner;
}

/** Process ids the router hands out keep the top byte for the worker that owns the session. */
const WORKER_SHIFT = 24;
/** The most worker processes a router runs: their index fills the top byte, whose sign bit stays clear. */
export const MAX_WORKERS = 127;

/**
 * The cancel keys the router issues to clients in place of their members' own: a session
 * may move from member to member (a replica link, a new primary), but its client keeps the
 * one BackendKeyData it was given, and a CancelRequest with it reaches whichever link runs the
 * client's query. A process id's top byte names the worker that owns the session, so a
 * cancel landing on another worker can be handed to the right one.
 */
export class CancelRegistry {
  private readonly issued = new Map<string, IssuedKey>();

  constructor(private readonly worker = 0) {
    if (!Number.isInteger(worker) || worker < 0 || worker > MAX_WORKERS) throw new RangeError(`worker index ${worker} out of 0..${MAX_WORKERS}`);
  }

  private static keyOf(processId: number, secret: Buffer): string {
    return `${processId}:${secret.toString('hex')}`;
  }

  /** A fresh key for `owner`, with a secret as long as its member's (4 bytes before PostgreSQL 18). */
  issue(owner: CancelOwner, listener: string, secretLength = 4): CancelKey {
    for (;;) {
      // Never 0: some drivers read a zero process id as "no key".
      const processId = (this.worker << WORKER_SHIFT) | randomInt(1, 1 << WORKER_SHIFT);
      const key = { processId, secret: randomBytes(Math.max(4, secretLength)) };
      const id = CancelRegistry.keyOf(key.processId, key.secret);
      if (this.issued.has(id)) continue;
      this.issued.set(id, { key, listener, owner });
      return key;
    }
  }

  lookup(processId: number, secret: Buffer): IssuedKey | undefined {
    return this.issued.get(CancelRegistry.keyOf(processId, secret));
  }

  /** Only the owner's own entry goes, so a late removal cannot take another session's key. */
  release(key: CancelKey, owner: CancelOwner): void {
    const id = CancelRegistry.keyOf(key.processId, key.secret);
    if (this.issued.get(id)?.owner === owner) this.issued.delete(id);
  }

  /** The worker a process id names (see WORKER_SHIFT). */
  static workerOf(processId: number): number {
    return processId >>> WORKER_SHIFT;
  }

  get size(): number {
    return this.issued.size;
  }
}
