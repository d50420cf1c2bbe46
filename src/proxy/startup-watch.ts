import type { BackendFrame } from './wire/backend-frame.js';
import { parseBackendKeyData, parseParameterStatus } from './wire/backend-frame.js';
import { parseErrorFields } from './wire/error-response.js';

/** What the session does with one backend message between StartupMessage and ReadyForQuery. */
export type StartupVerdict =
  /** Pass it to the client (auth challenges, ParameterStatus, errors...); `cancelKey` when it was BackendKeyData. */
  | { kind: 'relay'; cancelKey?: { processId: number; secret: Buffer } }
  /** Nothing reached the client yet and the member cannot serve now: try the next candidate. */
  | { kind: 'retry'; code: string }
  /** A write session landed on a server in hot standby: refuse instead of handing it over. */
  | { kind: 'refuse-read-only' }
  /** ReadyForQuery: relay it, then switch to the raw byte relay. */
  | { kind: 'ready' };

/** Backend startup errors after which a read session may try another member: starting up, too many clients. */
const RETRYABLE_CODES = new Set(['57P03', '53300']);

/**
 * Reads the backend's startup messages for the few facts the router needs, without touching
 * authentication: the cancel key, `in_hot_standby` (PostgreSQL 14+), and early refusals.
 */
export class StartupWatch {
  private relayedAny = false;
  private inHotStandby: string | undefined;

  constructor(private readonly options: { writeRoute: boolean; canRetry: boolean }) {}

  observe(frame: BackendFrame): StartupVerdict {
    switch (frame.type) {
      case 'K': {
        this.relayedAny = true;
        const key = parseBackendKeyData(frame.body);
        return key === undefined ? { kind: 'relay' } : { kind: 'relay', cancelKey: key };
      }
      case 'S': {
        const status = parseParameterStatus(frame.body);
        if (status?.name === 'in_hot_standby') this.inHotStandby = status.value;
        break;
      }
      case 'E': {
        const code = parseErrorFields(frame.body).get('C');
        if (!this.relayedAny && this.options.canRetry && code !== undefined && RETRYABLE_CODES.has(code)) {
          return { kind: 'retry', code };
        }
        break;
      }
      case 'Z':
        return this.options.writeRoute && this.inHotStandby === 'on' ? { kind: 'refuse-read-only' } : { kind: 'ready' };
    }
    this.relayedAny = true;
    return { kind: 'relay' };
  }
}
