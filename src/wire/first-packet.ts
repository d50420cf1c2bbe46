import { MAX_CANCEL_SECRET_LENGTH, MAX_STARTUP_PACKET_LENGTH, MIN_CANCEL_SECRET_LENGTH, MIN_STARTUP_PACKET_LENGTH, RequestCode, TLS_HANDSHAKE_RECORD } from './message-codes.js';
import { parseStartupParams, type StartupParams } from './startup-params.js';

/** The packets a client may open a connection with (before any TLS, or first inside TLS). */
export type FirstPacket =
  | { kind: 'ssl-request' }
  | { kind: 'gssenc-request' }
  | { kind: 'cancel-request'; processId: number; secret: Buffer }
  | { kind: 'startup'; major: number; minor: number; params: StartupParams }
  /** PG 17 `sslnegotiation=direct`: the client starts with a TLS ClientHello; nothing is consumed. */
  | { kind: 'direct-tls' };

export type FirstPacketRead =
  | { status: 'incomplete' }
  /** `code` is the SQLSTATE to answer with (08P01 protocol violation, 0A000 unsupported protocol). */
  | { status: 'invalid'; code: string; message: string }
  | { status: 'complete'; packet: FirstPacket; consumed: number };

/**
 * Reads the first packet from the bytes received so far. Pure and restartable: call again with
 * more bytes until the answer is not `incomplete`. Never allocates by the announced length.
 */
export function readFirstPacket(bytes: Buffer, options: { allowDirectTls: boolean } = { allowDirectTls: true }): FirstPacketRead {
  if (bytes.length === 0) return { status: 'incomplete' };
  if (bytes[0] === TLS_HANDSHAKE_RECORD && options.allowDirectTls) {
    return { status: 'complete', packet: { kind: 'direct-tls' }, consumed: 0 };
  }
  if (bytes.length < 4) return { status: 'incomplete' };
  const length = bytes.readInt32BE(0);
  if (length < MIN_STARTUP_PACKET_LENGTH || length > MAX_STARTUP_PACKET_LENGTH) {
    return { status: 'invalid', code: '08P01', message: 'invalid length of startup packet' };
  }
  if (bytes.length < 8) return { status: 'incomplete' };
  const code = bytes.readInt32BE(4);
  // A request code tells us the exact length before the whole packet arrives: reject early.
  if (code === RequestCode.SSL || code === RequestCode.GSSENC) {
    if (length !== 8) return { status: 'invalid', code: '08P01', message: 'invalid length of SSL/GSS negotiation packet' };
    return { status: 'complete', packet: { kind: code === RequestCode.SSL ? 'ssl-request' : 'gssenc-request' }, consumed: 8 };
  }
  if (code === RequestCode.Cancel) {
    const secretLength = length - 12;
    if (secretLength < MIN_CANCEL_SECRET_LENGTH || secretLength > MAX_CANCEL_SECRET_LENGTH) {
      return { status: 'invalid', code: '08P01', message: 'invalid length of cancel request packet' };
    }
    if (bytes.length < length) return { status: 'incomplete' };
    return {
      status: 'complete',
      packet: { kind: 'cancel-request', processId: bytes.readInt32BE(8), secret: Buffer.from(bytes.subarray(12, length)) },
      consumed: length,
    };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    return {
      status: 'invalid',
      code: major === 1234 ? '08P01' : '0A000',
      message: major === 1234 ? `unrecognized request code ${code}` : `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.x`,
    };
  }
  if (bytes.length < length) return { status: 'incomplete' };
  const parsed = parseStartupParams(bytes.subarray(8, length));
  if ('error' in parsed) return { status: 'invalid', code: '08P01', message: parsed.error };
  return { status: 'complete', packet: { kind: 'startup', major, minor, params: parsed.params }, consumed: length };
}
