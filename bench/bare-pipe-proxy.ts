/**
 * The reference column: the least a Node TCP proxy can do, `socket.pipe` both ways with
 * Nagle off, as HAProxy has it. What the router costs beyond this is the router's own work.
 * `node dist/bench/bare-pipe-proxy.js LISTEN_PORT TARGET_HOST TARGET_PORT`
 */
import net from 'node:net';

const [listenPort, host, targetPort] = [Number(process.argv[2]), process.argv[3] ?? '127.0.0.1', Number(process.argv[4])];
net
  .createServer({ noDelay: true }, (client) => {
    const backend = net.connect({ host, port: targetPort, noDelay: true });
    const close = (): void => void (client.destroy(), backend.destroy());
    client.on('error', close).pipe(backend).on('error', close);
    backend.pipe(client);
  })
  .listen(listenPort, '127.0.0.1', () => process.stdout.write(`bare pipe on ${listenPort} -> ${host}:${targetPort}\n`));
