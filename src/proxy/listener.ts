import net from 'node:net';
import type { ListenerRuntime } from './listener-runtime.js';

/** Binds one listener's TCP server; half-open sockets are kept so a FIN can be relayed as a FIN. */
export function openListener(runtime: ListenerRuntime, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, onConnection);
    const onError = (err: Error): void => {
      server.close();
      reject(new Error(`listener "${runtime.config.name}" cannot listen on ${runtime.config.host}:${runtime.config.port}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen({ host: runtime.config.host, port: runtime.config.port }, () => {
      server.removeListener('error', onError);
      resolve(server);
    });
  });
}

export function closeListener(server: net.Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) return Promise.resolve();
  // close() stops accepting at once; its callback would wait for connections we track ourselves.
  return new Promise((resolve) => {
    server.close();
    setImmediate(resolve);
  });
}

export function boundPort(server: net.Server | undefined): number | undefined {
  const address = server?.address();
  return address !== null && typeof address === 'object' ? address.port : undefined;
}
