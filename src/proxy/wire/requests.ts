import { CANCEL_REQUEST_CODE, SSL_REQUEST_CODE } from './protocol-codes.js';

export function sslRequest(): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(SSL_REQUEST_CODE, 4);
  return b;
}

export function cancelRequest(processId: number, secret: Buffer): Buffer {
  const b = Buffer.alloc(12 + secret.length);
  b.writeInt32BE(12 + secret.length, 0);
  b.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  b.writeInt32BE(processId, 8);
  secret.copy(b, 12);
  return b;
}
