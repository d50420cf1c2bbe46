/**
 * The entry point of a worker process, which the primary process forks with the cluster
 * module (src/workers/worker-pool.ts). Only the I/O wiring: the channel, the signals, the exit.
 */
import cluster from 'node:cluster';
import { isToWorker } from './messages.js';
import { RelayWorker } from './relay-worker.js';

const worker = cluster.worker;
if (worker === undefined || process.send === undefined) {
  process.stderr.write('patroni-router: worker-main runs only as a worker the router forks (workers: N in its configuration)\n');
  process.exit(2);
}

const relay = new RelayWorker(
  (message) => {
    // A channel that closed meanwhile: the worker is draining already (primaryLost).
    if (worker.isConnected()) process.send?.(message);
  },
  (code) => process.exit(code),
);

process.on('message', (message: unknown) => {
  if (isToWorker(message)) relay.handle(message);
});

worker.on('disconnect', () => {
  // The cluster module ends a worker whose channel closed unexpectedly right after this event,
  // unless the disconnect is taken as expected: the worker drains on its stale view instead.
  worker.exitedAfterDisconnect = true;
  relay.primaryLost();
});

process.once('SIGTERM', () => relay.drainOnSignal('SIGTERM'));
process.once('SIGINT', () => relay.drainOnSignal('SIGINT'));
// A reload is the primary's to distribute; a SIGHUP to the whole process group (a closed
// terminal) must not end the worker, which is node's default.
process.on('SIGHUP', () => undefined);

process.send({ type: 'hello' });
