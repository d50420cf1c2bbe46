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
   */
  | { kind: 'retry'; why: string; full?: { sqlstate: string; message: string } }
  /** A write session landed on a server in hot standby after the client took part in authentication. */
  | { kind: 'refuse-read-only' }
  /** ReadyForQuery: relay what was kept back and it, then switch to the raw byte relay. */
  | { kind: 'ready' };

/**
 * Backend startup errors that say "not now" rather than "not you": starting up or shutting
 * down (57P03), terminated by an administrator or a crash (57P01, 57P02), as a member does in
 * the middle of a switchover.
 */
const RETRYABLE_CODES = new Set(['57P03', '57P01', '57P02']);
/** "Too many clients" (max_connections, a role's CONNECTION LIMIT): no room, now or soon. */
const NO_ROOM = '53300';

/**
 * Reads the backend's startup messages for the few facts the router needs, without touching
 * authentication: the cancel key, `in_hot_standby` (PostgreSQL 14+), and early refusals.
 *
 * For a write session whose authentication needed nothing from the client (the first answer
 * is AuthenticationOk), everything up to ReadyForQuery is kept back: if the server turns out
 * to be in hot standby (a promotion not finished), the attempt gives way unseen and the
 * session waits for the real primary instead of failing.
 */
export class StartupWatch {
  private relayedAny = false;
  private deferring = false;
  private inHotStandby: string | undefined;

  constructor(private readonly options: { writeRoute: boolean; canRetry: boolean }) {}

  observe(frame: Frame): StartupVerdict {
    if (!this.relayedAny && !this.deferring && this.options.writeRoute && this.options.canRetry && isAuthenticationOk(frame)) {
      this.deferring = true;
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
        if (!this.relayedAny && this.options.canRetry && code !== undefined && RETRYABLE_CODES.has(code)) {
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
          return this.relayedAny ? { kind: 'refuse-read-only' } : { kind: 'retry', why: 'is in hot standby (read-only)' };
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
