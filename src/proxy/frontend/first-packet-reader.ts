import type { Duplex } from 'node:stream';
import { readFirstPacket, type FirstPacketRead } from '../../wire/first-packet.js';

export type PacketReceived =
  | {
      kind: 'packet';
      read: Exclude<FirstPacketRead, { status: 'incomplete' }>;
      /** Bytes after the packet (for direct TLS: every byte received, the ClientHello itself). */
      rest: Buffer;
    }
  /** The client closed or broke the connection before its packet was complete. */
  | { kind: 'gone' }
  /** The caller gave up waiting (the startup timer). */
  | { kind: 'aborted' };

/**
 * Collects bytes from the client until one first packet is complete or invalid, then pauses
 * the stream and detaches, so the caller may upgrade it to TLS or hand it to the relay.
 */
export function receiveFirstPacket(stream: Duplex, allowDirectTls: boolean, signal: AbortSignal): Promise<PacketReceived> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const settle = (result: PacketReceived): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onGone);
      stream.removeListener('close', onGone);
      stream.removeListener('error', onGone);
      signal.removeEventListener('abort', onAbort);
      stream.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const read = readFirstPacket(buffered, { allowDirectTls });
      if (read.status === 'incomplete') return;
      settle({ kind: 'packet', read, rest: read.status === 'complete' ? buffered.subarray(read.consumed) : Buffer.alloc(0) });
    };
    const onGone = (): void => settle({ kind: 'gone' });
    const onAbort = (): void => settle({ kind: 'aborted' });
    if (signal.aborted) return onAbort();
    stream.on('data', onData);
    stream.once('end', onGone);
    stream.once('close', onGone);
    stream.once('error', onGone);
    signal.addEventListener('abort', onAbort, { once: true });
    stream.resume();
  });
}
