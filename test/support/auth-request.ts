/**
 * Which authentication a PostgreSQL server asks of a user: a plain StartupMessage and the
 * server's first Authentication message, read with pg-protocol's parser. This shows the method
 * actually used (an md5 pg_hba line answers a SCRAM-stored password with SCRAM), which neither
 * pg_hba_file_rules nor a successful login can.
 */
import net from 'node:net';
import { parse, serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';

export type AskedAuth = 'trust' | 'md5' | 'scram-sha-256' | 'password';

export function authAsked(host: string, port: number, user: string, timeoutMs = 5000): Promise<AskedAuth> {
  return new Promise<AskedAuth>((resolve, reject) => {
    const socket = net.connect({ host, port });
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no authentication request from ${host}:${port} within ${timeoutMs} ms`))), timeoutMs);
    socket.once('error', (error) => finish(() => reject(error)));
    socket.once('connect', () => socket.write(serialize.startup({ user, database: 'postgres' })));
    parse(socket, (message: BackendMessage) => {
      const asked = askedBy(message);
      if (typeof asked === 'string') finish(() => resolve(asked));
      else if (asked instanceof Error) finish(() => reject(asked));
    }).catch((error: unknown) => finish(() => reject(error as Error)));
  });
}

/** The method a message asks for, an Error for a refusal or an unknown request, else undefined (keep reading). */
function askedBy(message: BackendMessage): AskedAuth | Error | undefined {
  switch (message.name) {
    case 'authenticationOk':
      return 'trust';
    case 'authenticationMD5Password':
      return 'md5';
    case 'authenticationCleartextPassword':
      return 'password';
    case 'authenticationSASL': {
      const mechanisms = (message as BackendMessage & { mechanisms?: string[] }).mechanisms ?? [];
      return mechanisms.includes('SCRAM-SHA-256') ? 'scram-sha-256' : new Error(`unexpected SASL mechanisms ${mechanisms.join(',')}`);
    }
    case 'error':
      return new Error(`refused before authentication: ${(message as BackendMessage & { message?: string }).message ?? 'error'}`);
    default:
      return undefined;
  }
}
