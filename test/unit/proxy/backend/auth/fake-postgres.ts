import net from 'node:net';
import { encodeFrame, type WireFrame } from '../../../../../src/proxy/backend/auth/wire/frame.js';
import { MessageReader } from '../../../../../src/proxy/backend/auth/wire/message-reader.js';

/**
 * An in-process server that speaks real protocol messages, scripted per test: it reads the
 * startup packet and then typed messages, and the script writes whatever it wants back.
 */
export class ScriptedConnection {
  private readonly reader = new MessageReader();
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

  async message(): Promise<WireFrame> {
    for (;;) {
      const frame = this.reader.next();
      if (frame) return { type: frame.type, body: Buffer.from(frame.body) };
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

export const backend = {
  ok: () => encodeFrame('R', Buffer.from([0, 0, 0, 0])),
  md5: (salt: Buffer) => encodeFrame('R', Buffer.concat([Buffer.from([0, 0, 0, 5]), salt])),
  parameter: (name: string, value: string) => encodeFrame('S', Buffer.from(`${name}\0${value}\0`)),
  key: (pid: number) => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(pid, 0);
    b.writeInt32BE(12345, 4);
    return encodeFrame('K', b);
  },
  ready: () => encodeFrame('Z', Buffer.from('I')),
  error: (code: string, message: string) => encodeFrame('E', Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`)),
  parseComplete: () => encodeFrame('1', Buffer.alloc(0)),
  bindComplete: () => encodeFrame('2', Buffer.alloc(0)),
  commandComplete: (tag: string) => encodeFrame('C', Buffer.from(`${tag}\0`)),
  dataRow: (fields: Array<string | null>) => {
    const parts: Buffer[] = [];
    const count = Buffer.alloc(2);
    count.writeInt16BE(fields.length);
    parts.push(count);
    for (const field of fields) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : Buffer.byteLength(field));
      parts.push(length);
      if (field !== null) parts.push(Buffer.from(field));
    }
    return encodeFrame('D', Buffer.concat(parts));
  },
};
