import http from 'node:http';
import http2 from 'node:http2';
import { request } from 'undici';

/**
 * The other streams a router process runs beside its relays, in miniature: an HTTP server with
 * undici and node:http clients asking it every second (the REST probes of the members, the
 * admin API) and an http2 session (etcd3's gRPC). They move no relayed byte, but they run the
 * same node stream code (Readable#push, Writable#write, the socket handles' symbol-keyed
 * fields) with objects of other shapes, which turns its inline caches megamorphic: the relay's
 * chunks then pay for lookups a process with sockets of one kind does not make.
 */
export async function startStreamNeighbours(): Promise<void> {
  const server = http.createServer((_req, res) => res.end('{"state":"running","role":"primary"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const h2 = http2.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const h2Port = (h2.address() as { port: number }).port;
  const session = http2.connect(`http://127.0.0.1:${h2Port}`);
  session.on('error', () => undefined);
  const asked = (): Promise<void> =>
    new Promise((resolve) => {
      const stream = session.request({ ':path': '/' });
      stream
        .on('data', () => undefined)
        .on('end', resolve)
        .on('error', () => resolve());
      stream.end();
    });
  const polled = (): Promise<void> =>
    new Promise((resolve) => {
      http.get(`http://127.0.0.1:${port}/cluster`, (res) => res.resume().on('end', resolve)).on('error', () => resolve());
    });
  const round = async (): Promise<void> => {
    try {
      await (await request(`http://127.0.0.1:${port}/patroni`)).body.text();
      await asked();
      await polled();
    } catch {
      // A neighbour's failure is not the measurement's business.
    }
  };
  await Promise.all(Array.from({ length: 20 }, round));
  setInterval(() => void round(), 1000).unref();
  server.unref();
  h2.unref();
  session.unref();
}
