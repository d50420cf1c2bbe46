import { describe, expect, it } from 'vitest';
import { StartupWatch } from '../../../../src/proxy/backend/startup-watch.js';
import type { Frame } from '../../../../src/wire/frame-reader.js';
import { AuthCode, TransactionStatus } from '../../../../src/wire/message-codes.js';
import { authentication, authenticationOk, authenticationSasl, backendKeyData, errorResponse, parameterStatus, readyForQuery } from '../../../../src/wire/serializer.js';
import { frameOf } from '../../../support/test-buffers.js';

const authOk = frameOf(authenticationOk());
const hotStandby = (v: string): Frame => frameOf(parameterStatus('in_hot_standby', v));
const keyData = frameOf(backendKeyData(42, Buffer.from([1, 2, 3, 4])));
const ready = frameOf(readyForQuery(TransactionStatus.Idle));
const error = (code: string): Frame => frameOf(errorResponse({ severity: 'FATAL', code, message: 'x' }));

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
    expect(write.observe(ready)).toEqual({ kind: 'standby-after-login' });
    const read = new StartupWatch({ writeRoute: false, canRetry: false });
    read.observe(hotStandby('on'));
    expect(read.observe(ready)).toEqual({ kind: 'ready' });
  });

  it('gives way on "not now" errors (starting up, shutting down, too many clients, terminated) only before anything was relayed', () => {
    expect(new StartupWatch({ writeRoute: false, canRetry: true }).observe(error('57P03'))).toEqual({ kind: 'retry', why: 'answered 57P03: x' });
    expect(new StartupWatch({ writeRoute: false, canRetry: true }).observe(error('53300'))).toEqual({
      kind: 'retry',
      why: 'answered 53300: x',
      full: { sqlstate: '53300', message: 'x' },
    });
    expect(new StartupWatch({ writeRoute: true, canRetry: true }).observe(error('57P01'))).toEqual({ kind: 'retry', why: 'answered 57P01: x' });
    expect(new StartupWatch({ writeRoute: false, canRetry: false }).observe(error('57P03'))).toEqual({ kind: 'relay' });
    expect(new StartupWatch({ writeRoute: false, canRetry: true }).observe(error('28P01'))).toEqual({ kind: 'relay' });
    const late = new StartupWatch({ writeRoute: false, canRetry: true });
    late.observe(frameOf(authentication(AuthCode.MD5Password, Buffer.from([1, 2, 3, 4]))));
    expect(late.observe(error('53300'))).toEqual({ kind: 'relay' });
  });

  it('keeps a password-less write startup back until ReadyForQuery, and gives way unseen on a hot standby', () => {
    const standby = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(standby.observe(authOk)).toEqual({ kind: 'defer' });
    expect(standby.observe(hotStandby('on'))).toEqual({ kind: 'defer' });
    expect(standby.observe(keyData)).toEqual({ kind: 'defer', cancelKey: { processId: 42, secret: Buffer.from([1, 2, 3, 4]) } });
    expect(standby.observe(ready)).toEqual({ kind: 'retry', why: 'is in hot standby (read-only)', standby: true });
    const primary = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(primary.observe(authOk)).toEqual({ kind: 'defer' });
    expect(primary.observe(hotStandby('off'))).toEqual({ kind: 'defer' });
    expect(primary.observe(ready)).toEqual({ kind: 'ready' });
  });

  it('relays the login at once when the client takes part in it, keeps the rest of a write startup back, and says so on a hot standby', () => {
    const standby = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(standby.observe(frameOf(authenticationSasl(['SCRAM'])))).toEqual({ kind: 'relay' });
    expect(standby.observe(authOk)).toEqual({ kind: 'relay' });
    expect(standby.observe(hotStandby('on'))).toEqual({ kind: 'defer' });
    expect(standby.observe(keyData)).toEqual({ kind: 'defer', cancelKey: { processId: 42, secret: Buffer.from([1, 2, 3, 4]) } });
    expect(standby.observe(ready)).toEqual({ kind: 'standby-after-login' });
    const primary = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(primary.observe(frameOf(authenticationSasl(['SCRAM'])))).toEqual({ kind: 'relay' });
    expect(primary.observe(authOk)).toEqual({ kind: 'relay' });
    expect(primary.observe(hotStandby('off'))).toEqual({ kind: 'defer' });
    expect(primary.observe(ready)).toEqual({ kind: 'ready' });
    const read = new StartupWatch({ writeRoute: false, canRetry: true });
    expect(read.observe(frameOf(authenticationSasl(['SCRAM'])))).toEqual({ kind: 'relay' });
    expect(read.observe(authOk)).toEqual({ kind: 'relay' });
    expect(read.observe(hotStandby('on'))).toEqual({ kind: 'relay' });
  });

  it('stops keeping back at an error that is not "not now", so the client gets everything in order', () => {
    const watch = new StartupWatch({ writeRoute: true, canRetry: true });
    expect(watch.observe(authOk)).toEqual({ kind: 'defer' });
    expect(watch.observe(error('3D000'))).toEqual({ kind: 'relay' });
  });
});
