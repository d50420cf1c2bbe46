import type { Duplex } from 'node:stream';
import { readFirstPacket, type FirstPacketRead } from './wire/first-packet.js';

/** The client closed or broke the connection before its packet was complete. */
export class ClientGone extends Error {
  constructor() {
    super('client went away during startup');
  }
}

export interface ReceivedPacket {
  read: Exclude<FirstPacketRead, { status: 'incomplete' }>;
  /** Bytes after the packet (for direct TLS: every byte received, the ClientHello itself). */
  rest: Buffer;
}

/**
 * Collects bytes from the client until one first packet is complete or invalid, then pauses
 * the stream and detaches, so the caller may upgrade it to TLS or hand it to the relay.
 */
export function receiveFirstPacket(stream: Duplex, allowDirectTls: boolean): Promise<ReceivedPacket> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const detach = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onGone);
      stream.removeListener('close', onGone);
      stream.removeListener('error', onGone);
      stream.pause();
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const read = readFirstPacket(buffered, { allowDirectTls });
      if (read.status === 'incomplete') return;
      detach();
      resolve({ read, rest: read.status === 'complete' ? buffered.subarray(read.consumed) : Buffer.alloc(0) });
    };
    const onGone = (): void => {
      detach();
      reject(new ClientGone());
    };
    stream.on('data', onData);
    stream.once('end', onGone);
    stream.once('close', onGone);
    stream.once('error', onGone);
    stream.resume();
  });
}
