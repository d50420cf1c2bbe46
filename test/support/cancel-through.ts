/**
 * A CancelRequest with the key a node-postgres client was given, sent as libpq sends it: a new
 * connection to the same address, the request, the close. The router must find the session.
 */
import net from 'node:net';
import type pg from 'pg';
import { cancelRequest } from '../../src/wire/serializer.js';

export function cancelThrough(port: number, client: pg.Client): Promise<void> {
  const key = client as unknown as { processID: number; secretKey: number };
  const secret = Buffer.alloc(4);
  secret.writeInt32BE(key.secretKey);
  return new Promise<void>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(cancelRequest(key.processID, secret)));
    s.on('close', () => resolve());
  });
}
