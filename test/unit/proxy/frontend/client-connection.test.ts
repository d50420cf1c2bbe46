/**
 * TLS the router terminates: the records it sends are no larger than a member's own (8 kB), so a
 * libpq client reading asynchronously 8 kB at a time (psycopg 3) never finds the rest of a record
 * stuck decrypted in OpenSSL with nothing left on the socket to wake it (seen as a hung 20 MB
 * result in the compatibility matrix).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientConnection } from '../../../../src/proxy/frontend/client-connection.js';
import { createSelfSignedCert, type TlsFiles } from '../../../cluster/tls-cert.js';

/** The lengths of the TLS records in `bytes` (5-byte headers: type, version, length). */
function recordLengths(bytes: Buffer): number[] {
  const lengths: number[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readUInt16BE(at + 3);
    lengths.push(length);
    at += 5 + length;
  }
  return lengths;
}

describe('ClientConnection with TLS terminated', () => {
  let dir: string;
  let cert: TlsFiles;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-connection-'));
    cert = await createSelfSignedCert(dir);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sends TLS records of at most 8 kB however large a write is', async () => {
    const context = tls.createSecureContext({ cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) });
    const payload = Buffer.alloc(256 * 1024, 0x61);
    const server = net.createServer((socket) => {
      const connection = new ClientConnection(socket, { end() {}, close() {}, error() {} });
      connection.start();
      connection.upgrade(context);
      (connection.stream as tls.TLSSocket).once('secure', () => connection.write(payload));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    // A plain TCP hop between the client and the router's side, which sees the records as sent.
    const onWire: Buffer[] = [];
    const hop = net.createServer((fromClient) => {
      const toServer = net.connect(port, '127.0.0.1');
      fromClient.pipe(toServer);
      toServer.on('data', (chunk: Buffer) => onWire.push(chunk));
      toServer.pipe(fromClient);
    });
    await new Promise<void>((resolve) => hop.listen(0, '127.0.0.1', resolve));
    const client = tls.connect({ host: '127.0.0.1', port: (hop.address() as net.AddressInfo).port, rejectUnauthorized: false });
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      client.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= payload.length) resolve();
      });
      client.on('error', reject);
    });
    client.destroy();
    hop.close();
    server.close();
    const records = recordLengths(Buffer.concat(onWire));
    expect(received).toBe(payload.length);
    // Application data records carry the payload, plus at most AEAD overhead (16) and the inner type (1).
    expect(Math.max(...records)).toBeLessThanOrEqual(8192 + 256);
    expect(records.length).toBeGreaterThanOrEqual(payload.length / 8192);
  });
});
