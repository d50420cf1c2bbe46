import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConnectionClosed, ServerMessages } from '../../../../src/proxy/backend/message-stream.js';
import { FrameTooLarge } from '../../../../src/wire/frame-reader.js';
import { BackendCode, TransactionStatus } from '../../../../src/wire/message-codes.js';
import { authenticationOk, readyForQuery } from '../../../../src/wire/serializer.js';
import { message } from '../../../support/test-buffers.js';

describe('ServerMessages', () => {
  it('reads messages however they are chunked, and zero-fills them once read', async () => {
    const stream = new PassThrough();
    const messages = new ServerMessages(stream);
    const bytes = Buffer.concat([authenticationOk(), message('D', 'secret-bytes'), readyForQuery(TransactionStatus.Idle)]);
    const pending = messages.next();
    stream.write(bytes.subarray(0, 3));
    stream.write(bytes.subarray(3, 14));
    stream.write(bytes.subarray(14));
    const frames = [await pending, await messages.next(), await messages.next()];
    expect(frames.map((f) => f.code)).toEqual([BackendCode.Authentication, BackendCode.DataRow, BackendCode.ReadyForQuery]);
    expect(frames[1]?.body.toString()).toBe('secret-bytes');
    messages.wipeRead();
    expect(frames.every((f) => f.raw.every((b) => b === 0))).toBe(true);
    messages.release();
  });

  it('release() rejects a pending read and hands back the bytes beyond the last message', async () => {
    const stream = new PassThrough();
    const messages = new ServerMessages(stream);
    stream.write(Buffer.concat([authenticationOk(), Buffer.from('rest')]));
    await messages.next();
    const pending = messages.next();
    const rest = messages.release();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosed);
    expect(rest.toString()).toBe('rest');
  });

  it('rejects when the stream ends, and on a length it will not buffer', async () => {
    const ended = new PassThrough();
    const closed = new ServerMessages(ended).next();
    ended.end();
    ended.resume();
    await expect(closed).rejects.toBeInstanceOf(ConnectionClosed);
    const absurd = new PassThrough();
    const tooLarge = new ServerMessages(absurd, 1024).next();
    absurd.write(Buffer.from([BackendCode.DataRow, 0x7f, 0xff, 0xff, 0xff]));
    await expect(tooLarge).rejects.toBeInstanceOf(FrameTooLarge);
  });
});
