/**
 * A CancelRequest that lands on one worker for a session on another: two ProxyServers in this
 * process stand for workers 1 and 2, with their CancelPeers joined directly where the router
 * goes through its primary process (src/workers/worker-pool.ts), in front of FakePostgres.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { TlsConfig } from '../../../src/config/types.js';
import { otherWorkerOf, type CancelPeers } from '../../../src/proxy/cancel-forwarding.js';
import { CancelRegistry, type CancelKey } from '../../../src/proxy/cancel-registry.js';
import { ProxyServer } from '../../../src/proxy/proxy-server.js';
import { cancelRequest, sslRequest } from '../../../src/wire/serializer.js';
import { waitFor } from '../../cluster/index.js';
import { createSelfSignedCert } from '../../cluster/tls-cert.js';
import { FakePostgres, type FakePostgresOptions } from '../../support/fake-postgres.js';
import { clusterStateOf, HandFedFeed } from '../../support/hand-fed-feed.js';
import { listenerConfig } from '../../support/listener-config.js';
import { captureLog } from '../../support/log-capture.js';
import { RecordingEvents } from '../../support/recording-events.js';

const SCOPE = 'fake';

interface Worker {
  proxy: ProxyServer;
  events: RecordingEvents;
  port: number;
}

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

/** Workers 1..count over one FakePostgres member; what each hands another is recorded, then delivered. */
async function workers(
  count: number,
  opts: { tls?: TlsConfig; member?: FakePostgresOptions } = {},
): Promise<{ member: FakePostgres; workers: Worker[]; handed: Array<{ from: number; to: number | 'others'; listener: string }> }> {
  const member = await FakePostgres.start(opts.member);
  const tls = opts.tls ?? { backend: { mode: 'disable' } };
  closing.push(() => member.close());
  const feed = new HandFedFeed(SCOPE);
  feed.push(clusterStateOf(SCOPE, [{ name: 'm0', host: '127.0.0.1', port: member.port }], 'm0'));
  const handed: Array<{ from: number; to: number | 'others'; listener: string }> = [];
  const all: Worker[] = [];
  const deliver = (to: number, listener: string, key: CancelKey, reach: 'owner' | 'pass-through'): void => all[to - 1]?.proxy.cancelFromPeer(listener, key, reach);
  for (let index = 1; index <= count; index++) {
    const peers: CancelPeers = {
      index,
      count,
      toOwner: (to, listener, key) => {
        handed.push({ from: index, to, listener });
        deliver(to, listener, key, 'owner');
      },
      toOthers: (listener, key) => {
        handed.push({ from: index, to: 'others', listener });
        for (let other = 1; other <= count; other++) if (other !== index) deliver(other, listener, key, 'pass-through');
      },
    };
    const events = new RecordingEvents();
    const proxy = new ProxyServer({
      listeners: [listenerConfig('primary', SCOPE, { port: 0 })],
      // Listening on port 0 in one process gives each "worker" its own port; the router's workers share one.
      tls,
      startupTimeoutMs: 2_000,
      targetParameterPrefix: 'router',
      feeds: new Map([[SCOPE, feed]]),
      logger: captureLog('silent').logger,
      events,
      cancelPeers: peers,
    });
    await proxy.start();
    closing.push(() => proxy.close());
    all.push({ proxy, events, port: proxy.listeners()[0]!.port! });
  }
  return { member, workers: all, handed };
}

async function session(port: number): Promise<pg.Client & { processID: number; secretKey: number }> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'app', database: 'app', connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  closing.push(() => client.end().catch(() => undefined));
  return client as pg.Client & { processID: number; secretKey: number };
}

function sendCancel(port: number, processId: number, secret: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(cancelRequest(processId, secret)));
    socket.on('close', () => resolve());
  });
}

const secretOf = (client: { secretKey: number }): Buffer => {
  const secret = Buffer.alloc(4);
  secret.writeInt32BE(client.secretKey);
  return secret;
};

describe('a CancelRequest between workers', () => {
  it("names the worker that owns a key in the process id's top byte, and only another worker's counts", () => {
    const peers = { index: 2, count: 3 };
    const keyOf = (worker: number): number => new CancelRegistry(worker).issue({ cancelRunningQuery: () => {} }, 'primary').processId;
    expect(otherWorkerOf(keyOf(1), peers)).toBe(1);
    expect(otherWorkerOf(keyOf(3), peers)).toBe(3);
    expect(otherWorkerOf(keyOf(2), peers)).toBeUndefined();
    // 0: a single-process router's key, or a member's own (TLS passed through); 4: no such worker.
    expect(otherWorkerOf(keyOf(0), peers)).toBeUndefined();
    expect(otherWorkerOf(keyOf(4), peers)).toBeUndefined();
  });

  it('goes from the worker it landed on to the worker that issued the key, which cancels on its member', async () => {
    const {
      member,
      workers: [one, two],
      handed,
    } = await workers(2);
    const client = await session(two!.port);
    expect(CancelRegistry.workerOf(client.processID)).toBe(2);
    const running = client.query('SELECT pg_sleep(60)').catch((e: unknown) => e as Error & { code?: string });
    await waitFor('the query to reach the member', () => member.queries.includes('SELECT pg_sleep(60)'), { intervalMs: 5 });
    await sendCancel(one!.port, client.processID, secretOf(client));
    expect(await running).toMatchObject({ code: '57014' });
    expect(handed).toEqual([{ from: 1, to: 2, listener: 'primary' }]);
    expect(one!.events.of('cancel')).toMatchObject([{ outcome: 'other-worker' }]);
    // Counted once, where it was received.
    expect(two!.events.of('cancel')).toEqual([]);
    // The member got its own key, not the router's.
    expect(member.cancels).toHaveLength(1);
    expect(member.cancels[0]!.processId).not.toBe(client.processID);
  });

  it("is cancelled at once on the worker that issued it, and a wrong secret for another worker's key cancels nothing", async () => {
    const {
      member,
      workers: [one, two],
      handed,
    } = await workers(2);
    const client = await session(one!.port);
    const running = client.query('SELECT pg_sleep(60)').catch((e: unknown) => e as Error & { code?: string });
    await waitFor('the query to reach the member', () => member.queries.includes('SELECT pg_sleep(60)'), { intervalMs: 5 });
    const wrong = secretOf(client);
    wrong[0] = (wrong[0]! + 1) % 256;
    await sendCancel(two!.port, client.processID, wrong);
    await waitFor('the cancel to be handed to worker 1', () => handed.length === 1, { intervalMs: 5 });
    expect(member.cancels).toEqual([]);
    await sendCancel(one!.port, client.processID, secretOf(client));
    expect(await running).toMatchObject({ code: '57014' });
    expect(one!.events.of('cancel')).toMatchObject([{ outcome: 'forwarded' }]);
    expect(handed).toEqual([{ from: 2, to: 1, listener: 'primary' }]);
  });

  it("hands a key no worker issued to the other workers only when TLS is passed through (it may be a member's own)", async () => {
    const passing = await workers(2);
    await sendCancel(passing.workers[0]!.port, 4242, Buffer.from([1, 2, 3, 4]));
    await waitFor('the cancel to be handled', () => passing.workers[0]!.events.of('cancel').length === 1, { intervalMs: 5 });
    expect(passing.workers[0]!.events.of('cancel')).toMatchObject([{ outcome: 'other-worker' }]);
    expect(passing.handed).toEqual([{ from: 1, to: 'others', listener: 'primary' }]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-workers-tls-'));
    closing.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const cert = await createSelfSignedCert(dir);
    const terminating = await workers(2, { tls: { cert: cert.certFile, key: cert.keyFile, backend: { mode: 'disable' } } });
    await sendCancel(terminating.workers[0]!.port, 4242, Buffer.from([1, 2, 3, 4]));
    await waitFor('the cancel to be handled', () => terminating.workers[0]!.events.of('cancel').length === 1, { intervalMs: 5 });
    expect(terminating.workers[0]!.events.of('cancel')).toMatchObject([{ outcome: 'unknown' }]);
    expect(terminating.handed).toEqual([]);
  });
  it("reaches a member through another worker's TLS pass-through session with the member's own key", async () => {
    const {
      member,
      workers: [one, two],
    } = await workers(2, { member: { acceptSsl: true } });
    const client = net.connect({ host: '127.0.0.1', port: two!.port });
    closing.push(async () => void client.destroy());
    const answered = new Promise<Buffer>((resolve) => client.once('data', resolve));
    client.write(sslRequest());
    expect((await answered).toString()).toBe('S');
    client.write(Buffer.from([0x16, 3, 1, 0, 1, 0]));
    await waitFor('the member to get the handshake bytes', () => member.afterSsl.length > 0, { intervalMs: 5 });
    await sendCancel(one!.port, 4242, Buffer.from([9, 9, 9, 9]));
    await waitFor('worker 2 to try its pass-through member', () => member.cancels.length === 1, { intervalMs: 5 });
    expect(member.cancels[0]).toEqual({ processId: 4242, secret: Buffer.from([9, 9, 9, 9]) });
    expect(one!.events.of('cancel')).toMatchObject([{ outcome: 'other-worker' }]);
  });
});
