import type { Frame } from '../../wire/frame-reader.js';
import { DescribeTarget, FrontendCode } from '../../wire/message-codes.js';

/** A Parse's statement name and text; a Bind's statement name. */
export interface ParseStep {
  statement: string;
  text: string;
}

/**
 * What a client sends as one routing unit: the router decides a link for the whole of it.
 * - `query`: one simple Query (a multi-statement string is one unit);
 * - `extended`: extended-protocol messages up to a Sync (or a Flush: the client waits for
 *   answers before it goes on, so they must go somewhere now; the rest up to its Sync follows
 *   them to the same link);
 * - `function-call`: the legacy FunctionCall message;
 * - `terminate`: the client's goodbye.
 */
export type ClientUnit =
  | { kind: 'query'; frames: Frame[]; text: string }
  | { kind: 'extended'; frames: Frame[]; parses: ParseStep[]; boundStatements: string[]; closedStatements: string[]; end: 'sync' | 'flush' | 'overflow' }
  | { kind: 'function-call'; frames: Frame[] }
  | { kind: 'terminate'; frames: Frame[] };

/** The word, in any case: a text without it cannot start a COPY. */
const COPY_WORD = /copy/i;

/**
 * Whether a unit may put its link into COPY FROM STDIN (pure). PostgreSQL then takes nothing
 * but copy data (and Flush, Sync) until the copy ends: a message of the router's sent behind
 * such a unit would break the copy and the session. Judged on the text, not the verdict, so a
 * COPY later in a multi-statement string, or in a text too long to parse, counts too; a name
 * that merely contains the word costs a later round trip, nothing more. `boundCopies`: a
 * statement the unit binds was prepared as a COPY ... FROM.
 */
export function mayStartCopyIn(unit: ClientUnit, boundCopies: boolean): boolean {
  if (unit.kind === 'query') return COPY_WORD.test(unit.text);
  if (unit.kind !== 'extended') return false;
  return boundCopies || unit.parses.some((p) => COPY_WORD.test(p.text));
}

/** Beyond this many bytes of extended messages without a Sync, decide on what came so far. */
const MAX_BATCH_BYTES = 1 << 20;

/** Reads a NUL-terminated string at `offset`: its text and where it ends (the NUL excluded). */
function cstringAt(body: Buffer, offset: number): { text: string; end: number } {
  const end = body.indexOf(0, offset);
  const stop = end < 0 ? body.length : end;
  return { text: body.toString('utf8', offset, stop), end: stop };
}

/**
 * Groups a client's messages into units (pure: frames in, units out). COPY data is not a
 * unit: while a COPY FROM STDIN runs the session sends CopyData/CopyDone/CopyFail straight to
 * the link that asked for them and does not feed them here.
 */
export class ClientUnits {
  private pending: Frame[] = [];
  private pendingBytes = 0;
  private parses: ParseStep[] = [];
  private bound: string[] = [];
  private closed: string[] = [];

  /** A client frame; returns the units it completes (usually none or one). */
  push(frame: Frame): ClientUnit[] {
    switch (frame.code) {
      case FrontendCode.Query:
        return [...this.flushPending('overflow'), { kind: 'query', frames: [frame], text: cstringAt(frame.body, 0).text }];
      case FrontendCode.FunctionCall:
        return [...this.flushPending('overflow'), { kind: 'function-call', frames: [frame] }];
      case FrontendCode.Terminate:
        return [...this.flushPending('overflow'), { kind: 'terminate', frames: [frame] }];
      case FrontendCode.Parse: {
        const name = cstringAt(frame.body, 0);
        this.parses.push({ statement: name.text, text: cstringAt(frame.body, name.end + 1).text });
        return this.add(frame);
      }
      case FrontendCode.Bind: {
        const portal = cstringAt(frame.body, 0);
        this.bound.push(cstringAt(frame.body, portal.end + 1).text);
        return this.add(frame);
      }
      case FrontendCode.Close: {
        // 'S' statement or 'P' portal, then the name.
        if (frame.body[0] === DescribeTarget.Statement) this.closed.push(cstringAt(frame.body, 1).text);
        return this.add(frame);
      }
      case FrontendCode.Sync:
        this.pending.push(frame);
        return this.flushPending('sync');
      case FrontendCode.Flush:
        this.pending.push(frame);
        return this.flushPending('flush');
      default:
        // Describe, Execute, and anything else of the extended protocol.
        return this.add(frame);
    }
  }

  /** Messages held for a unit not complete yet. */
  get holding(): boolean {
    return this.pending.length > 0;
  }

  private add(frame: Frame): ClientUnit[] {
    this.pending.push(frame);
    this.pendingBytes += frame.raw.length;
    return this.pendingBytes > MAX_BATCH_BYTES ? this.flushPending('overflow') : [];
  }

  private flushPending(end: 'sync' | 'flush' | 'overflow'): ClientUnit[] {
    if (this.pending.length === 0) return [];
    const unit: ClientUnit = { kind: 'extended', frames: this.pending, parses: this.parses, boundStatements: this.bound, closedStatements: this.closed, end };
    this.pending = [];
    this.pendingBytes = 0;
    this.parses = [];
    this.bound = [];
    this.closed = [];
    return [unit];
  }
}
