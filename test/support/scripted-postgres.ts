import net from 'node:net';
import { FrameReader, type Frame } from '../../src/wire/frame-reader.js';
import { AuthCode, BackendCode, HEADER_LENGTH, TransactionStatus } from '../../src/wire/message-codes.js';
import { authentication, authenticationOk, backendKeyData, errorResponse, parameterStatus, readyForQuery } from '../../src/wire/serializer.js';
import { commandComplete, dataRow, message } from './test-buffers.js';

/**
 * An in-process server that speaks real protocol messages, scripted per test: it reads the
 * startup packet and then typed messages, and the script writes whatever it wants back.
 */
export class ScriptedConnection {
  private readonly reader = new FrameReader();
  private startupBytes: Buffer | undefined;
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.startupBytes === undefined) {
        this.buffered = Buffer.concat([this.buffered, chunk]);
        if (this.buffered.length >= 4 && this.buffered.length >= this.buffered.readInt32BE(0)) {
          const length = this.buffered.readInt32BE(0);
          this.startupBytes = this.buffered.subarray(0, length);
          const rest = this.buffered.subarray(length);
          if (rest.length > 0) this.reader.push(Buffer.from(rest));
        }
      } else {
        this.reader.push(Buffer.from(chunk));
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  /** The startup parameters the client sent. */
  async startup(): Promise<Record<string, string>> {
    while (this.startupBytes === undefined) await this.waitForData();
    const parts = this.startupBytes.subarray(8).toString('utf8').split('\0');
    const params: Record<string, string> = {};
    for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) params[parts[i] as string] = parts[i + 1] as string;
    return params;
  }

  async message(): Promise<Frame> {
    for (;;) {
      const frame = this.reader.next();
      if (frame) {
        const raw = Buffer.from(frame.raw);
        return { code: frame.code, body: raw.subarray(HEADER_LENGTH), raw };
      }
      if (this.closed) throw new Error('client closed the connection');
      await this.waitForData();
    }
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
}

export async function fakePostgres(script: (connection: ScriptedConnection) => Promise<void>): Promise<{ port: number; errors: unknown[]; close: () => Promise<void> }> {
  const errors: unknown[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    script(new ScriptedConnection(socket)).catch((error: unknown) => errors.push(error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function connectTo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The cancel key's secret every scripted server hands out. */
const KEY_SECRET = Buffer.from([0, 0, 0x30, 0x39]); // 12345

export const backend = {
  ok: () => authenticationOk(),
  md5: (salt: Buffer) => authentication(AuthCode.MD5Password, salt),
  parameter: (name: string, value: string) => parameterStatus(name, value),
  key: (pid: number) => backendKeyData(pid, KEY_SECRET),
  ready: () => readyForQuery(TransactionStatus.Idle),
  error: (code: string, text: string) => errorResponse({ severity: 'FATAL', code, message: text }),
  parseComplete: () => message(BackendCode.ParseComplete),
  bindComplete: () => message(BackendCode.BindComplete),
  commandComplete: (tag: string) => commandComplete(tag),
  dataRow: (fields: Array<string | null>) => dataRow(fields),
};
