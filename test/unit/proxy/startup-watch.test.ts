import { describe, expect, it } from 'vitest';
import { StartupWatch } from '../../../src/proxy/startup-watch.js';
import { BackendFramer, type BackendFrame } from '../../../src/proxy/wire/backend-frame.js';
import { errorResponse } from '../../../src/proxy/wire/error-response.js';

function frame(type: string, body: Buffer | string): BackendFrame {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(b.length + 4, 1);
  const framer = new BackendFramer();
  framer.push(Buffer.concat([header, b]));
  return framer.next()!;
}

const authOk = frame('R', Buffer.from([0, 0, 0, 0]));
const hotStandby = (v: string): BackendFrame => frame('S', `in_hot_standby\0${v}\0`);
const keyData = frame('K', Buffer.from([0, 0, 0, 42, 1, 2, 3, 4]));
const ready = frame('Z', 'I');
function error(code: string): BackendFrame {
  const framer = new BackendFramer();
  framer.push(errorResponse({ severity: 'FATAL', code, message: 'x' }));
  return framer.next()!;
}

describe('StartupWatch', () => {
  it('relays auth and status messages, hands over the cancel key, and says ready at ReadyForQuery', () => {
    const watch = new StartupWatch({ writeRoute: true, canRetry: false });
    expect(watch.observe(authOk)).toEqual({ kind: 'relay' });
    expect(watch.observe(hotStandby('off'))).toEqual({ kind: 'relay' });
    expect(watch.observe(keyData)).toEqual({ kind: 'relay', cancelKey: { processId: 42, secret: Buffer.from([1, 2, 3, 4]) } });
    expect(watch.observe(ready)).toEqual({ kind: 'ready' });
  });

  it('refuses a write session on a server in hot standby, but not a read session', () => {
    const write = new StartupWatch({ writeRoute: true, canRetry: false });
    write.observe(hotStandby('on'));
    expect(write.observe(ready)).toEqual({ kind: 'refuse-read-only' });
    const read = new StartupWatch({ writeRoute: false, canRetry: false });
    read.observe(hotStandby('on'));
    expect(read.observe(ready)).toEqual({ kind: 'ready' });
  });

  it('gives way on "not now" errors (starting up, shutting down, too many clients, terminated) only before anything was relayed', () => {
    expect(new StartupWatch({ writeRoute: false, canRetry: true }).observe(error('57P03'))).toEqual({ kind: 'retry', why: 'answered 57P03: x' });
    expect(new StartupWatch({ writeRoute: false, canRetry: true }).observe(error('53300'))).toEqual({ kind: 'retry', why: 'answered 53300: x' });
    expect(new StartupWatch({ writeRoute: true, canRetry: true }).observe(error('57P01'))).toEqual({ kind: 'retry', why: 'answered 57P01: x' });
    expect(new StartupWatch({ writeRoute: false, canRetry: false }).observe(error('57P03'))).toEqual({ kind: 'relay' });
    expect(new StartupWatch({ writeRoute: false, canRetry: true }).observe(error('28P01'))).toEqual({ kind: 'relay' });
    const late = new StartupWatch({ writeRoute: false, canRetry: true });
    late.observe(frame('R', Buffer.from([0, 0, 0, 5, 1, 2, 3, 4])));
    expect(late.observe(error('53300'))).toEqual({ kind: 'relay' });
  });

  it('keeps a password-less write startup back until ReadyForQuery, and gives way unseen on a hot standby', () => {
    const standby = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(standby.observe(authOk)).toEqual({ kind: 'defer' });
    expect(standby.observe(hotStandby('on'))).toEqual({ kind: 'defer' });
    expect(standby.observe(keyData)).toEqual({ kind: 'defer', cancelKey: { processId: 42, secret: Buffer.from([1, 2, 3, 4]) } });
    expect(standby.observe(ready)).toEqual({ kind: 'retry', why: 'is in hot standby (read-only)' });
    const primary = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(primary.observe(authOk)).toEqual({ kind: 'defer' });
    expect(primary.observe(hotStandby('off'))).toEqual({ kind: 'defer' });
    expect(primary.observe(ready)).toEqual({ kind: 'ready' });
  });

  it('relays at once when the client takes part in authentication, and then refuses a hot standby', () => {
    const watch = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(watch.observe(frame('R', Buffer.from([0, 0, 0, 10, 0x53, 0x43, 0x52, 0x41, 0x4d, 0, 0])))).toEqual({ kind: 'relay' });
    expect(watch.observe(authOk)).toEqual({ kind: 'relay' });
    watch.observe(hotStandby('on'));
    expect(watch.observe(ready)).toEqual({ kind: 'refuse-read-only' });
  });

  it('stops keeping back at an error that is not "not now", so the client gets everything in order', () => {
    const watch = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(watch.observe(authOk)).toEqual({ kind: 'defer' });
    expect(watch.observe(error('3D000'))).toEqual({ kind: 'relay' });
  });
});
