import type net from 'node:net';
import { FrameReader, FrameTooLarge } from '../../wire/frame-reader.js';
import type { TimerSet } from '../clock.js';
import { StartupWatch } from './startup-watch.js';

type CancelKey = { processId: number; secret: Buffer };

/** How a member's startup ended, from the session's point of view. */
export type StartupOutcome =
  /** ReadyForQuery reached the client; `rest` = member bytes after it, for the byte relay. */
  | { kind: 'ready'; rest: Buffer }
  /** Nothing reached the client and the member cannot serve now: try another, or later (`full`: it has no room). */
  | { kind: 'give-way'; why: string; full?: { sqlstate: string; message: string } }
  /** A write session on a server in hot standby, after the client took part in authentication. */
  | { kind: 'read-only' }
  /** The member sent a message the router will not buffer. */
  | { kind: 'protocol-violation'; what: string }
  /** The member went away; the session may try elsewhere unseen unless something reached the client. */
  | { kind: 'lost'; why: string; reachedClient: boolean }
  /** The member took longer than the authentication time-out, after the client had started talking to it. */
  | { kind: 'timed-out' }
  /** The session ended meanwhile. */
  | { kind: 'abandoned' };

export interface StartupRelayOptions {
  backend: net.Socket;
  /** The StartupMessage as the member gets it (the router's own options removed). */
  startupMessage: Buffer;
  writeRoute: boolean;
  canRetry: boolean;
  /** Member messages for the client, in order. */
  toClient(bytes: Buffer): void;
  /** The client speaks only after the member's first answer: from then on its bytes flow. */
  startClientFlow(): void;
  /** The member's BackendKeyData: returns the message the client gets instead (the router's own key). */
  onCancelKey(key: CancelKey): Buffer;
  /** The member must answer the StartupMessage within this (a member that accepts but never speaks). */
  firstAnswerTimeoutMs: number;
  /** From the StartupMessage to ReadyForQuery, passwords typed included (PostgreSQL's authentication_timeout). */
  timeoutMs: number;
  timers: TimerSet;
}

/**
 * Sends the startup and relays the member's answers (authentication challenges included,
 * untouched) while reading them: BackendKeyData for cancel, in_hot_standby for write routes,
 * early "not now" refusals that let the session try elsewhere unseen.
 */
export class StartupRelay {
  private readonly reader = new FrameReader();
  private readonly watch: StartupWatch;
  /** Messages held back until ReadyForQuery shows the session is usable (write routes). */
  private readonly deferred: Buffer[] = [];
  private reachedClient = false;
  private settle: ((outcome: StartupOutcome) => void) | undefined;

  constructor(private readonly options: StartupRelayOptions) {
    this.watch = new StartupWatch({ writeRoute: options.writeRoute, canRetry: options.canRetry });
  }

  run(): Promise<StartupOutcome> {
    const { backend, timers } = this.options;
    return new Promise<StartupOutcome>((resolve) => {
      let answered = false;
      const onData = (chunk: Buffer): void => {
        if (!answered) {
          answered = true;
          timers.cancel(silence);
        }
        this.onData(chunk);
      };
      const silence = timers.after(this.options.firstAnswerTimeoutMs, () =>
        this.settle?.({ kind: 'give-way', why: `did not answer the startup within ${this.options.firstAnswerTimeoutMs} ms` }),
      );
      const overall = timers.after(this.options.timeoutMs, () =>
        this.settle?.(this.reachedClient ? { kind: 'timed-out' } : { kind: 'give-way', why: `did not finish the startup within ${this.options.timeoutMs} ms` }),
      );
      this.settle = (outcome) => {
        backend.removeListener('data', onData);
        timers.cancel(silence);
        timers.cancel(overall);
        this.settle = undefined;
        resolve(outcome);
      };
      backend.on('data', onData);
      backend.write(this.options.startupMessage);
      backend.resume();
    });
  }

  /** The member closed or failed during the startup. */
  backendLost(why: string): void {
    this.settle?.({ kind: 'lost', why, reachedClient: this.reachedClient });
  }

  abandon(): void {
    this.settle?.({ kind: 'abandoned' });
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    const out: Buffer[] = [];
    for (;;) {
      let frame;
      try {
        frame = this.reader.next();
      } catch (err) {
        if (!(err instanceof FrameTooLarge)) throw err;
        this.flush(out);
        return this.settle?.({ kind: 'protocol-violation', what: err.message });
      }
      if (frame === undefined) break;
      const verdict = this.watch.observe(frame);
      switch (verdict.kind) {
        case 'relay':
        case 'defer':
          {
            const bytes = verdict.cancelKey === undefined ? frame.raw : this.options.onCancelKey(verdict.cancelKey);
            // Something goes to the client: what was kept back goes first, in order.
            if (verdict.kind === 'relay') out.push(...this.deferred.splice(0), bytes);
            else this.deferred.push(bytes);
          }
          continue;
        case 'retry':
          return this.settle?.(verdict.full === undefined ? { kind: 'give-way', why: verdict.why } : { kind: 'give-way', why: verdict.why, full: verdict.full });
        case 'refuse-read-only':
          this.flush(out);
          return this.settle?.({ kind: 'read-only' });
        case 'ready':
          this.flush([...this.deferred.splice(0), ...out, frame.raw]);
          return this.settle?.({ kind: 'ready', rest: this.reader.rest() });
      }
    }
    this.flush(out);
  }

  private flush(out: Buffer[]): void {
    if (out.length === 0) return;
    if (!this.reachedClient) {
      this.reachedClient = true;
      this.options.startClientFlow();
    }
    this.options.toClient(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  }
}
