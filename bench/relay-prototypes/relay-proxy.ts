/**
 * One relay prototype as a proxy process, for the interleaved comparison (compare.ts): the
 * router's accept and connect settings around the relay, and nothing of a session (no startup,
 * routing or logging), so what differs between kinds is the relay alone.
 * `node dist/bench/relay-prototypes/relay-proxy.js KIND LISTEN_PORT TARGET_HOST TARGET_PORT [--neighbours] [--in-worker]`
 * --neighbours: other streams in the process as a router has them (stream-neighbours.ts);
 * --in-worker: the relays in a worker thread (an isolate of their own), the neighbours not.
 */
import net from 'node:net';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { ByteRelay } from '../../src/proxy/byte-relay.js';
import { CorkingRelay } from './corking-relay.js';
import { connectWithReader, OnreadRelay } from './onread-relay.js';
import { PipeOnlyRelay } from './pipe-only-relay.js';
import { startStreamNeighbours } from './stream-neighbours.js';
import type { RelayShape } from './relay-shape.js';

export const RELAY_KINDS = ['current', 'pipe-only', 'corking', 'onread'] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];

/** The session's socket settings (session.ts attachBackend, client-connection.ts start). */
const KEEPALIVE_DELAY_MS = 30_000;
const EMPTY = Buffer.alloc(0);

function isRelayKind(word: string | undefined): word is RelayKind {
  return (RELAY_KINDS as readonly string[]).includes(word ?? '');
}

function relayBetween(kind: Exclude<RelayKind, 'onread'>, client: net.Socket, backend: net.Socket): RelayShape {
  switch (kind) {
    case 'current':
      return new ByteRelay(client, backend);
    case 'pipe-only':
      return new PipeOnlyRelay(client, backend);
    case 'corking':
      return new CorkingRelay(client, backend);
  }
}

function accept(kind: RelayKind, host: string, port: number, client: net.Socket): void {
  client.setNoDelay(true);
  client.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  let backend: net.Socket;
  let start: () => RelayShape;
  if (kind === 'onread') {
    const connected = connectWithReader(host, port);
    backend = connected.socket;
    start = () => new OnreadRelay(client, backend, connected.reader);
  } else {
    // As connector.ts connectTcp: half-open allowed, paused until the relay is attached.
    backend = net.connect({ host, port, allowHalfOpen: true });
    backend.pause();
    start = () => relayBetween(kind, client, backend);
  }
  const close = (): void => {
    client.destroy();
    backend.destroy();
  };
  client.on('error', close).on('close', close);
  backend.on('error', close).on('close', close);
  backend.once('connect', () => {
    backend.setNoDelay(true);
    backend.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    const relay = start();
    relay.startClientToBackend(EMPTY);
    relay.startBackendToClient(EMPTY);
  });
}

function serve(kind: RelayKind, listen: number, host: string, target: number): void {
  // As listener.ts: half-open kept so a FIN is relayed as a FIN; paused until a relay reads.
  net
    .createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => accept(kind, host, target, client))
    .listen(listen, '127.0.0.1', () => process.stdout.write(`relay ${kind} on ${listen} -> ${host}:${target}\n`));
}

interface WorkerOrders {
  kind: RelayKind;
  listen: number;
  host: string;
  target: number;
}

async function main(): Promise<void> {
  if (!isMainThread) {
    const orders = workerData as WorkerOrders;
    return serve(orders.kind, orders.listen, orders.host, orders.target);
  }
  const args = process.argv.slice(2);
  const [kind, listen, host, target] = args.filter((a) => !a.startsWith('--'));
  if (!isRelayKind(kind) || !listen || !host || !target) {
    process.stderr.write(`usage: relay-proxy.js ${RELAY_KINDS.join('|')} LISTEN_PORT TARGET_HOST TARGET_PORT [--neighbours] [--in-worker]\n`);
    process.exit(2);
  }
  process.on('SIGTERM', () => process.exit(0));
  if (args.includes('--neighbours')) await startStreamNeighbours();
  const orders: WorkerOrders = { kind, listen: Number(listen), host, target: Number(target) };
  if (args.includes('--in-worker')) new Worker(new URL(import.meta.url), { workerData: orders });
  else serve(orders.kind, orders.listen, orders.host, orders.target);
}

void main();
