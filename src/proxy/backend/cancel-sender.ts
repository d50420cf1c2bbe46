import net from 'node:net';
import type { Logger } from 'pino';
import { cancelRequest } from '../../wire/serializer.js';

/**
 * Sends one CancelRequest to a backend on a fresh connection and closes it. Fire and forget:
 * PostgreSQL never answers a cancel, and failures only mean the query keeps running.
 */
export function sendCancel(target: { host: string; port: number }, processId: number, secret: Buffer, timeoutMs: number, log: Logger): void {
  const socket = net.connect({ host: target.host, port: target.port });
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  socket.once('connect', () => socket.end(cancelRequest(processId, secret)));
  socket.on('error', (err) => log.debug({ target, err: err.message }, 'cancel request could not be delivered'));
  socket.on('close', () => clearTimeout(timer));
  // The backend closes after reading the request; nothing it sends matters.
  socket.resume();
}
