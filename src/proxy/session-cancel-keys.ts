import type { Logger } from 'pino';
import type { Member } from '../topology/cluster-state.js';
import { backendKeyData } from '../wire/serializer.js';
import { sendCancel } from './backend/cancel-sender.js';
import type { CancelKey, CancelOwner, CancelRegistry } from './cancel-registry.js';

/**
 * A session's two cancel keys: the member's, which changes with the member, and the router's
 * own given to the client, which stays the same whichever member serves.
 */
export class SessionCancelKeys {
  /** The BackendKeyData of the member the session is on now. */
  member: CancelKey | undefined;
  /** The key the client was given, the router's own. */
  private client: CancelKey | undefined;

  constructor(
    private readonly registry: CancelRegistry,
    private readonly owner: CancelOwner,
    private readonly listener: string,
  ) {}

  /** Keeps the member's cancel key and gives the client the router's own in its place. */
  forClient(memberKey: CancelKey): Buffer {
    this.member = memberKey;
    this.client ??= this.registry.issue(this.owner, this.listener, memberKey.secret.length);
    return backendKeyData(this.client.processId, this.client.secret);
  }

  /** The client's key stops naming this session (it ended). */
  release(): void {
    if (this.client !== undefined) this.registry.release(this.client, this.owner);
  }
}

/** Asks `member` to cancel what runs there under `key` (nothing without both). */
export function cancelOn(member: Member | undefined, key: CancelKey | undefined, timeoutMs: number, log: Logger): void {
  if (key === undefined || member?.host === undefined || member.port === undefined) return;
  sendCancel({ host: member.host, port: member.port }, key.processId, key.secret, timeoutMs, log);
}
