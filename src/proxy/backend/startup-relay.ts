import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { MalformedAuthRequest, parseAuthRequest } from '../../wire/auth-request.js';
import { FrameReader, FrameTooLarge, type Frame } from '../../wire/frame-reader.js';
import { BackendCode, FrontendCode } from '../../wire/message-codes.js';
import { noticeResponse, type ErrorFields } from '../../wire/serializer.js';
import type { TimerSet } from '../clock.js';
import type { AuthQueryResult } from './auth/auth-query.js';
import { ScramBridge } from './auth/scram-bridge.js';
import type { SessionSecret } from './auth/session-secret.js';
import { LoginWatch, type LoginContext, type SecretOutcome } from './login-watch.js';
import { StartupWatch } from './startup-watch.js';

type CancelKey = { processId: number; secret: Buffer };

/** How a member's startup ended, from the session's point of view. */
export type StartupOutcome =
  /**
   * ReadyForQuery reached the client. `rest` = member bytes after it, `clientRest` = client
   * bytes already read past the login, both for the byte relay; `secret` = what the session
   * may log in to other members with, or why it has none.
   */
  | { kind: 'ready'; rest: Buffer; clientRest: Buffer; secret: SecretOutcome }
  /** Nothing reached the client and the member cannot serve now: try another, or later (`full`: it has no room; `standby`: a write session found it in hot standby). */
  | { kind: 'give-way'; why: string; full?: { sqlstate: string; message: string }; standby?: true }
  /**
   * A write session logged in on a server in hot standby after the client took part in
   * authentication; nothing past AuthenticationOk reached the client. With `secret` the session
   * may log in again on the primary (`clientRest` = client bytes read past its login); without,
   * it is refused.
   */
  | { kind: 'read-only'; secret?: SessionSecret; clientRest: Buffer }
  /** The member sent a message the router will not buffer. */
  | { kind: 'protocol-violation'; what: string }
  /** The member went away; the session may try elsewhere unseen unless something reached the client. */
  | { kind: 'lost'; why: string; reachedClient: boolean }
  /** The member took longer than the authentication time-out, after the client had started talking to it. */
  | { kind: 'timed-out' }
  /** The router answered the login itself (ScramBridge) and refuses it, in PostgreSQL's words. */
  | { kind: 'login-refused'; error: ErrorFields & { severity: 'FATAL' } }
  /** The session ended meanwhile. */
  | { kind: 'abandoned' };

export interface StartupRelayOptions {
  backend: net.Socket;
  /** The client's stream: its login messages are read here, framed, until ReadyForQuery. */
  client: Duplex;
  /** The StartupMessage as the member gets it (the router's own options removed). */
  startupMessage: Buffer;
  /** Client bytes already read past its startup packet. */
  clientRest: Buffer;
  writeRoute: boolean;
  canRetry: boolean;
  login: LoginContext;
  /** Member messages for the client, in order. */
  toClient(bytes: Buffer): void;
  /** The member's BackendKeyData: returns the message the client gets instead (the router's own key). */
  onCancelKey(key: CancelKey): Buffer;
  /** The member must answer the StartupMessage within this (a member that accepts but never speaks). */
  firstAnswerTimeoutMs: number;
  /** From the StartupMessage to ReadyForQuery, passwords typed included (PostgreSQL's authentication_timeout). */
  timeoutMs: number;
  timers: TimerSet;
}

/**
 * Sends the startup and relays the login both ways, framed, while reading it: the startup
 * watch (BackendKeyData for cancel, in_hot_standby for write routes, early "not now" refusals
 * that let the session try elsewhere unseen) and the login watch (what the session needs to
 * log in elsewhere as the same user; SCRAM answered by the router itself where channel binding
 * makes a relay impossible). ReadyForQuery ends it: from there bytes flow unframed.
 */
export class StartupRelay {
  private readonly memberFrames = new FrameReader();
  private readonly clientFrames = new FrameReader();
  private readonly watch: StartupWatch;
  private readonly loginWatch: LoginWatch;
  private bridge: ScramBridge | undefined;
  /** Messages held back until ReadyForQuery shows the session is usable (write routes). */
  private readonly deferred: Buffer[] = [];
  private reachedClient = false;
  /** AuthenticationOk has passed: the client has nothing more to say until ReadyForQuery. */
  private authenticated = false;
  /** Client frames wait while the bridge looks a verifier up. */
  private clientPaused: Promise<void> | undefined;
  /**
   * Client frames sent ahead of ReadyForQuery that are not part of the login (a pipelined first
   * query): kept for whichever member the session ends up on, never the one logging it in.
   */
  private readonly ahead: Buffer[] = [];
  private settle: ((outcome: StartupOutcome) => void) | undefined;

  constructor(private readonly options: StartupRelayOptions) {
    this.watch = new StartupWatch({ writeRoute: options.writeRoute, canRetry: options.canRetry });
    this.loginWatch = new LoginWatch(options.login);
  }

  run(): Promise<StartupOutcome> {
    const { backend, client, timers } = this.options;
    return new Promise<StartupOutcome>((resolve) => {
      let answered = false;
      const onMember = (chunk: Buffer): void => {
        if (!answered) {
          answered = true;
          timers.cancel(silence);
        }
        this.onMember(chunk);
      };
      const onClient = (chunk: Buffer): void => this.onClient(chunk);
      const silence = timers.after(this.options.firstAnswerTimeoutMs, () =>
        this.settle?.({ kind: 'give-way', why: `did not answer the startup within ${this.options.firstAnswerTimeoutMs} ms` }),
      );
      const overall = timers.after(this.options.timeoutMs, () =>
        this.settle?.(this.reachedClient ? { kind: 'timed-out' } : { kind: 'give-way', why: `did not finish the startup within ${this.options.timeoutMs} ms` }),
      );
      this.settle = (outcome) => {
        backend.removeListener('data', onMember);
        client.removeListener('data', onClient);
        client.pause();
        timers.cancel(silence);
        timers.cancel(overall);
        this.settle = undefined;
        // A secret handed on is the session's now (it wipes it); anything else held is wiped here.
        if (outcome.kind !== 'ready' && !(outcome.kind === 'read-only' && outcome.secret !== undefined)) {
          this.loginWatch.wipe();
          this.bridge?.wipe();
        }
        resolve(outcome);
      };
      backend.on('data', onMember);
      client.on('data', onClient);
      backend.write(this.options.startupMessage);
      backend.resume();
      client.resume();
      if (this.options.clientRest.length > 0) this.onClient(this.options.clientRest);
    });
  }

  /** The member closed or failed during the startup. */
  backendLost(why: string): void {
    this.settle?.({ kind: 'lost', why, reachedClient: this.reachedClient });
  }

  abandon(): void {
    this.settle?.({ kind: 'abandoned' });
  }

  private onMember(chunk: Buffer): void {
    this.memberFrames.push(chunk);
    const out: Buffer[] = [];
    for (;;) {
      let frame;
      try {
        frame = this.memberFrames.next();
      } catch (err) {
        if (!(err instanceof FrameTooLarge)) throw err;
        this.flush(out);
        return this.settle?.({ kind: 'protocol-violation', what: err.message });
      }
      if (frame === undefined) break;
      if (this.settle === undefined) return;
      if (this.bridge !== undefined && !this.bridge.done && frame.code === BackendCode.Authentication) {
        if (!this.bridgeMember(frame)) return;
        continue;
      }
      const verdict = this.watch.observe(frame);
      switch (verdict.kind) {
        case 'relay':
        case 'defer': {
          let bytes = verdict.cancelKey === undefined ? frame.raw : this.options.onCancelKey(verdict.cancelKey);
          if (!this.authenticated) {
            const forward = this.loginWatch.fromMember(frame);
            if (forward.kind === 'bridge') {
              // fromMember only answers 'bridge' when a lookup is configured.
              this.bridge = new ScramBridge(this.options.login.user, forward.mechanisms, this.options.login.lookup as () => Promise<AuthQueryResult>);
              bytes = this.bridge.offer();
            } else bytes = forward.bytes;
            if (isOk(frame)) this.authenticated = true;
          }
          // Something goes to the client: what was kept back goes first, in order.
          if (verdict.kind === 'relay') out.push(...this.deferred.splice(0), bytes);
          else this.deferred.push(bytes);
          continue;
        }
        case 'retry':
          return this.settle?.({
            kind: 'give-way',
            why: verdict.why,
            ...(verdict.full !== undefined ? { full: verdict.full } : {}),
            ...(verdict.standby === true ? { standby: true } : {}),
          });
        case 'standby-after-login':
          this.flush(out);
          return void this.finishOnStandby();
        case 'ready':
          // What was kept back came after what this chunk already relayed.
          this.flush([...out, ...this.deferred.splice(0)]);
          return void this.finishReady(frame.raw);
      }
    }
    this.flush(out);
  }

  /** A member's Authentication message while the router logs in with the bridge's ClientKey. */
  private bridgeMember(frame: Frame): boolean {
    let request;
    try {
      request = parseAuthRequest(frame.body);
    } catch (error) {
      if (!(error instanceof MalformedAuthRequest)) throw error;
      this.settle?.({ kind: 'protocol-violation', what: error.message });
      return false;
    }
    const bridge = this.bridge as ScramBridge;
    const step = bridge.memberAuth(request);
    if (step.refuse !== undefined) {
      this.settle?.({ kind: 'login-refused', error: step.refuse });
      return false;
    }
    if (step.toMember !== undefined) this.options.backend.write(step.toMember);
    if (step.toClient !== undefined) {
      this.flush([step.toClient, frame.raw]);
      this.authenticated = true;
      this.watch.observe(frame);
    }
    return true;
  }

  private onClient(chunk: Buffer): void {
    this.clientFrames.push(chunk);
    if (this.clientPaused === undefined) this.drainClient();
  }

  private drainClient(): void {
    for (;;) {
      let frame;
      try {
        frame = this.clientFrames.next();
      } catch (err) {
        if (!(err instanceof FrameTooLarge)) throw err;
        return this.settle?.({ kind: 'protocol-violation', what: `client ${err.message}` });
      }
      if (frame === undefined || this.settle === undefined) return;
      if (this.bridge !== undefined && !this.bridge.done && frame.code === FrontendCode.Password) {
        if (!this.bridgeClient(frame)) return;
        continue;
      }
      if (this.ahead.length > 0 || frame.code !== FrontendCode.Password) {
        this.ahead.push(frame.raw);
        continue;
      }
      this.loginWatch.fromClient(frame);
      this.options.backend.write(frame.raw);
    }
  }

  /** A client's SASL message answered by the router (the bridge), never passed to the member. */
  private bridgeClient(frame: Frame): boolean {
    const bridge = this.bridge as ScramBridge;
    if (bridge.awaitingClientFirst) {
      // The verifier lookup is asynchronous: hold further client frames until it answers.
      this.clientPaused = bridge.clientFirst(frame.body).then((step) => {
        this.clientPaused = undefined;
        if (this.settle === undefined) return;
        if (step.refuse !== undefined) return this.settle({ kind: 'login-refused', error: step.refuse });
        if (step.toClient !== undefined) this.flush([step.toClient]);
        this.drainClient();
      });
      return false;
    }
    const step = bridge.clientFinal(frame.body);
    if (step.refuse !== undefined) {
      this.settle?.({ kind: 'login-refused', error: step.refuse });
      return false;
    }
    if (step.toMember !== undefined) this.options.backend.write(step.toMember);
    return true;
  }

  /**
   * ReadyForQuery: on a listener that opens more links, the session first learns whether it
   * can (a NOTICE tells the client when it cannot), so the rest of the session knows.
   */
  private async finishReady(readyForQuery: Buffer): Promise<void> {
    const secret = await this.learnedSecret();
    if (secret === undefined) return;
    const notice =
      this.options.login.learnSecret && 'none' in secret
        ? [noticeResponse({ severity: 'NOTICE', code: '01000', message: `patroni-router: this session cannot open more links (${secret.none}); it stays on one member` })]
        : [];
    this.flush([...notice, readyForQuery]);
    this.settle?.({ kind: 'ready', rest: this.memberFrames.rest(), clientRest: this.clientRest(), secret });
  }

  /** Logged in on a hot standby: what the member said after AuthenticationOk is dropped, the secret kept if there is one. */
  private async finishOnStandby(): Promise<void> {
    this.deferred.length = 0;
    const outcome = await this.learnedSecret();
    if (outcome === undefined) return;
    const clientRest = this.clientRest();
    this.settle?.('secret' in outcome ? { kind: 'read-only', secret: outcome.secret, clientRest } : { kind: 'read-only', clientRest });
  }

  /** What the login taught (from the bridge, or the login watch); undefined, and wiped, when the session ended meanwhile. */
  private async learnedSecret(): Promise<SecretOutcome | undefined> {
    const outcome: SecretOutcome = this.bridge !== undefined ? bridgeSecret(this.bridge) : await this.loginWatch.secret();
    if (this.settle !== undefined) return outcome;
    if ('secret' in outcome) outcome.secret.wipe();
    return undefined;
  }

  /** Client bytes past its login: the frames kept back, then what is not framed yet. */
  private clientRest(): Buffer {
    const unread = this.clientFrames.rest();
    return this.ahead.length === 0 ? unread : Buffer.concat([...this.ahead.splice(0), unread]);
  }

  private flush(out: Buffer[]): void {
    if (out.length === 0) return;
    this.reachedClient = true;
    this.options.toClient(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  }
}

function isOk(frame: Frame): boolean {
  if (frame.code !== BackendCode.Authentication) return false;
  try {
    return parseAuthRequest(frame.body).kind === 'ok';
  } catch {
    return false;
  }
}

function bridgeSecret(bridge: ScramBridge): SecretOutcome {
  const secret = bridge.takeSecret();
  return secret === undefined ? { none: 'the SCRAM login the router answered did not complete' } : { secret };
}
