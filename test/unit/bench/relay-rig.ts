/**
 * Real loopback sockets around a relay: a client, the socket the "router" accepted for it, the
 * router's socket to a "member", and the member's side. For the relay prototypes' tests.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectWithReader, OnreadRelay } from '../../../bench/relay-prototypes/onread-relay.js';
import type { RelayShape } from '../../../bench/relay-prototypes/relay-shape.js';
import { connectTcp } from '../../../src/proxy/backend/connector.js';
import { ByteRelay } from '../../../src/proxy/byte-relay.js';

export type RelayMaker = (client: Duplex, backend: net.Socket) => RelayShape;

export interface RelayRig {
  /** What the client program holds. */
  client: net.Socket;
  /** The router's side of the client connection. */
  accepted: net.Socket;
  /** The router's connection to the member. */
  backend: net.Socket;
  /** What the member holds. */
  member: net.Socket;
  relay: RelayShape;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function nextConnection(server: net.Server): Promise<net.Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

/**
 * `maker` 'onread' builds the backend with a MemberReader, as that prototype needs;
 * 'member-reads' connects it as the router does (connectTcp, whose reads a ByteRelay claims).
 */
export async function relayRig(maker: RelayMaker | 'onread' | 'member-reads'): Promise<RelayRig> {
  const memberServer = net.createServer({ allowHalfOpen: true });
  const frontServer = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const [memberPort, frontPort] = await Promise.all([listen(memberServer), listen(frontServer)]);

  const memberAccepted = nextConnection(memberServer);
  let backend: net.Socket;
  let relayFor: (accepted: net.Socket) => RelayShape;
  if (maker === 'onread') {
    const connected = connectWithReader('127.0.0.1', memberPort);
    backend = connected.socket;
    relayFor = (accepted) => new OnreadRelay(accepted, backend, connected.reader);
  } else if (maker === 'member-reads') {
    backend = await connectTcp({ host: '127.0.0.1', port: memberPort }, 5000);
    relayFor = (accepted) => new ByteRelay(accepted, backend);
  } else {
    backend = net.connect({ host: '127.0.0.1', port: memberPort, allowHalfOpen: true });
    backend.pause();
    relayFor = (accepted) => maker(accepted, backend);
  }
  if (backend.connecting) await new Promise((resolve) => backend.once('connect', resolve));
  const member = await memberAccepted;

  const frontAccepted = nextConnection(frontServer);
  const client = net.connect({ host: '127.0.0.1', port: frontPort, allowHalfOpen: true });
  await new Promise((resolve) => client.once('connect', resolve));
  const accepted = await frontAccepted;

  const relay = relayFor(accepted);
  relay.startClientToBackend(Buffer.alloc(0));
  relay.startBackendToClient(Buffer.alloc(0));
  return {
    client,
    accepted,
    backend,
    member,
    relay,
    close: async () => {
      for (const socket of [client, accepted, backend, member]) socket.destroy();
      await Promise.all([new Promise((r) => memberServer.close(r)), new Promise((r) => frontServer.close(r))]);
    },
  };
}
