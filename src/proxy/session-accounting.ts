import type { Logger } from 'pino';
import type { Member } from '../topology/cluster-state.js';
import type { ClientConnection } from './frontend/client-connection.js';
import type { SessionEnding } from './proxy-events.js';
import type { SessionServices } from './session-services.js';

/** What a session carried, read when it ends. */
export interface SessionTotals {
  member: Member | undefined;
  bytesIn: number;
  bytesOut: number;
  ending: SessionEnding;
}

/**
 * What observers hear of a session as a whole: that it started (its first backend connection
 * is up, once) and, only then, how it ended, how long it lasted and what it carried.
 */
export class SessionAccounting {
  readonly startedAt: number;
  private announced = false;

  constructor(
    private readonly services: Pick<SessionServices, 'events' | 'clock'>,
    private readonly listener: string,
    private readonly client: ClientConnection,
  ) {
    this.startedAt = services.clock.now();
  }

  started(member: Member): void {
    if (this.announced) return;
    this.announced = true;
    // Read now, while the socket is open: the session's end line names the client.
    void this.client.address;
    this.services.events.sessionStarted({ listener: this.listener, member: member.name });
  }

  ended({ member, bytesIn, bytesOut, ending }: SessionTotals, log: () => Logger): void {
    if (!this.announced) return;
    this.services.events.sessionEnded({
      listener: this.listener,
      member: member?.name ?? '',
      clientAddress: this.client.address,
      durationMs: this.services.clock.now() - this.startedAt,
      bytesIn,
      bytesOut,
      ending,
    });
    log().debug({ member: member?.name, ending, bytesIn, bytesOut }, 'session closed');
  }
}
