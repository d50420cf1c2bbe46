import type { Logger } from 'pino';
import type { Member } from '../../topology/cluster-state.js';
import type { StartupParams } from '../../wire/startup-params.js';
import type { SessionSecret } from './auth/session-secret.js';
import { BackendLink } from './backend-link.js';
import type { BackendConnector } from './connector.js';
import type { SecretOutcome } from './login-watch.js';

/**
 * What one session may log in to other members with, and the links it opened: the startup
 * parameters the member got, and the secret learned during the login it relayed (or why there
 * is none). The secret is wiped when the session ends (close()), or replaced.
 */
export class SessionLinks {
  private parameters: StartupParams | undefined;
  private secret: SessionSecret | undefined;
  /** Why the session cannot open more links, when it cannot. */
  private none: string | undefined;
  /** Links opened on request (openLink), closed with the session. */
  private readonly extra = new Set<BackendLink>();

  constructor(private readonly options: { connector: BackendConnector; connectTimeoutMs: number; isOver: () => boolean; log: () => Logger }) {}

  /** The startup parameters the session's member got (the router's own options removed). */
  startedWith(parameters: StartupParams): void {
    this.parameters = parameters;
  }

  /** What the login taught: a secret, or why there is none. */
  learned(outcome: SecretOutcome): void {
    this.secret?.wipe();
    if ('secret' in outcome) {
      this.secret = outcome.secret;
      this.none = undefined;
    } else {
      this.secret = undefined;
      this.none = outcome.none;
    }
  }

  get possible(): boolean {
    return this.secret !== undefined;
  }

  /** Why no link can be opened, when none can. */
  get singleLinkReason(): string | undefined {
    return this.none;
  }

  get extraCount(): number {
    return this.extra.size;
  }

  /** A link to `member` as the session's user, with its startup parameters and secret; the caller owns it. */
  async open(member: Member): Promise<BackendLink> {
    if (this.secret === undefined || this.parameters === undefined || this.options.isOver()) {
      throw new Error(`session cannot open more links: ${this.none ?? (this.options.isOver() ? 'it has ended' : 'it is not logged in yet')}`);
    }
    const link = await BackendLink.open(member, {
      connector: this.options.connector,
      parameters: this.parameters,
      secret: this.secret,
      timeoutMs: this.options.connectTimeoutMs,
    });
    if (this.options.isOver()) {
      link.close();
      throw new Error('session ended while the link opened');
    }
    this.options.log().debug({ member: member.name, ms: Math.round(link.openedInMs) }, 'link opened');
    return link;
  }

  /** As open(), the session closing the link when it ends. */
  async openOwned(member: Member): Promise<BackendLink> {
    const link = await this.open(member);
    this.extra.add(link);
    link.socket.once('close', () => this.extra.delete(link));
    return link;
  }

  /** The session ended: its links closed, its secret wiped. */
  close(): void {
    this.secret?.wipe();
    this.secret = undefined;
    for (const link of this.extra) link.close();
    this.extra.clear();
  }
}
