import type { Frame } from '../../wire/frame-reader.js';
import { BackendCode, ErrorField } from '../../wire/message-codes.js';
import { isAuthenticationOk, parseBackendKeyData, parseErrorFields, parseParameterStatus } from '../../wire/parser.js';

type CancelKey = { processId: number; secret: Buffer };

/** What the session does with one backend message between StartupMessage and ReadyForQuery. */
export type StartupVerdict =
  /** Pass it to the client (auth challenges, ParameterStatus, errors...); `cancelKey` when it was BackendKeyData. */
  | { kind: 'relay'; cancelKey?: CancelKey }
  /** Keep it back until ReadyForQuery says the session is usable (write routes after a password-less start). */
  | { kind: 'defer'; cancelKey?: CancelKey }
  /**
   * Nothing reached the client yet and the member cannot serve now: give way (another member,
   * or later). `full`: it said it has no room (53300); another member may, but waiting will not help.
   * `standby`: a write session's server turned out to be in hot standby.
   */
  | { kind: 'retry'; why: string; full?: { sqlstate: string; message: string }; standby?: true }
  /**
   * A write session's login passed on a server in hot standby, after the client took part in
   * authentication: nothing past AuthenticationOk reached the client, so the session may log in
   * again on the primary with what it learned, or be refused.
   */
  | { kind: 'standby-after-login' }
  /** ReadyForQuery: relay what was kept back and it, then switch to the raw byte relay. */
  | { kind: 'ready' };

/**
 * Backend startup errors that say "not now" rather than "not you": starting up or shutting
 * down (57P03), terminated by an administrator or a crash (57P01, 57P02), as a member does in
 * the middle of a switchover.
 */
export const NOT_NOW_CODES: ReadonlySet<string> = new Set(['57P03', '57P01', '57P02']);
/** "Too many clients" (max_connections, a role's CONNECTION LIMIT): no room, now or soon. */
export const NO_ROOM = '53300';

/**
 * Reads the backend's startup messages for the few facts the router needs, without touching
 * authentication: the cancel key, `in_hot_standby` (PostgreSQL 14+), and early refusals.
 *
 * For a write session, everything from AuthenticationOk to ReadyForQuery is kept back (the
 * whole startup, when authentication needed nothing from the client): if the server turns out
 * to be in hot standby (a promotion not finished, a primary Patroni demoted while the router's
 * view still names it), the client has seen nothing of that member's session, and the session
 * waits for the real primary instead of failing.
 */
export class StartupWatch {
  private relayedAny = false;
  private deferring = false;
  private inHotStandby: string | undefined;

  constructor(private readonly options: { writeRoute: boolean; canRetry: boolean }) {}

  observe(frame: Frame): StartupVerdict {
    const writeLogin = this.options.writeRoute && this.options.canRetry && !this.deferring && isAuthenticationOk(frame);
    if (writeLogin && !this.relayedAny) this.deferring = true;
    else if (writeLogin) {
      // The client took part: it gets AuthenticationOk, and the rest waits for ReadyForQuery.
      const verdict = this.pass();
      this.deferring = true;
      return verdict;
    }
    switch (frame.code) {
      case BackendCode.BackendKeyData: {
        const key = parseBackendKeyData(frame.body);
        return this.pass(key);
      }
      case BackendCode.ParameterStatus: {
        const status = parseParameterStatus(frame.body);
        if (status?.name === 'in_hot_standby') this.inHotStandby = status.value;
        break;
      }
      case BackendCode.ErrorResponse: {
        const fields = parseErrorFields(frame.body);
        const code = fields.get(ErrorField.Code);
        const message = fields.get(ErrorField.Message) ?? 'no message';
        if (!this.relayedAny && this.options.canRetry && code !== undefined && NOT_NOW_CODES.has(code)) {
          return { kind: 'retry', why: `answered ${code}: ${message}` };
        }
        if (!this.relayedAny && this.options.canRetry && code === NO_ROOM) {
          return { kind: 'retry', why: `answered ${code}: ${message}`, full: { sqlstate: code, message } };
        }
        // Anything kept back goes out first (the session flushes it before this frame).
        this.deferring = false;
        break;
      }
      case BackendCode.ReadyForQuery:
        if (this.options.writeRoute && this.inHotStandby === 'on') {
          return this.relayedAny ? { kind: 'standby-after-login' } : { kind: 'retry', why: 'is in hot standby (read-only)', standby: true };
        }
        return { kind: 'ready' };
    }
    return this.pass();
  }

  private pass(cancelKey?: CancelKey): StartupVerdict {
    if (this.deferring) return cancelKey === undefined ? { kind: 'defer' } : { kind: 'defer', cancelKey };
    this.relayedAny = true;
    return cancelKey === undefined ? { kind: 'relay' } : { kind: 'relay', cancelKey };
  }
}
