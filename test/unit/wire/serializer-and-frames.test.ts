import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parse, serialize, type DatabaseError } from 'pg-protocol';
import { FrameReader, FrameTooLarge } from '../../../src/wire/frame-reader.js';
import { TransactionStatus } from '../../../src/wire/message-codes.js';
import { endsWithReadyForQuery, endsWithTerminate, parseBackendKeyData, parseDataRow, parseError, parseErrorFields, parseParameterStatus } from '../../../src/wire/parser.js';
import {
  authenticationOk,
  authenticationSasl,
  backendKeyData,
  bind,
  cancelRequest,
  errorResponse,
  execute,
  noticeResponse,
  parameterStatus,
  parse as parseMessage,
  passwordMessage,
  query,
  readyForQuery,
  saslInitialResponse,
  saslResponse,
  startupMessage,
  sync,
  terminate,
} from '../../../src/wire/serializer.js';
import { emptyParams } from '../../../src/wire/startup-params.js';
import { dataRow, frameOf, message } from '../../support/test-buffers.js';

async function parseWithPg(bytes: Buffer): Promise<Array<Record<string, unknown>>> {
  const messages: Array<Record<string, unknown>> = [];
  await parse(Readable.from([bytes]), (m) => messages.push(m as unknown as Record<string, unknown>));
  return messages;
}

describe('ErrorResponse writer', () => {
  it('writes fields pg-protocol reads back', async () => {
    const bytes = errorResponse({ severity: 'FATAL', code: '57P03', message: 'no primary', detail: 'd', hint: 'h' });
    const [m] = await parseWithPg(bytes);
    const err = m as unknown as DatabaseError;
    expect(err.name).toBe('error');
    expect(err.severity).toBe('FATAL');
    expect(err.code).toBe('57P03');
    expect(err.message).toBe('no primary');
    expect(err.detail).toBe('d');
    expect(err.hint).toBe('h');
  });

  it('writes a NoticeResponse and drops NUL bytes from text', async () => {
    const [m] = await parseWithPg(noticeResponse({ severity: 'WARNING', code: '01000', message: 'a\0b' }));
    expect(m).toMatchObject({ name: 'notice', code: '01000', message: 'ab' });
  });

  it('parses fields back', () => {
    const fields = parseErrorFields(errorResponse({ severity: 'FATAL', code: '28P01', message: 'bad password' }).subarray(5));
    expect(fields.get('C')).toBe('28P01');
    expect(fields.get('M')).toBe('bad password');
  });
});

describe('parseError', () => {
  it('reads severity, SQLSTATE, message and detail', () => {
    const body = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "x"\0Dd\0\0');
    expect(parseError(body)).toEqual({ severity: 'FATAL', code: '28P01', message: 'password authentication failed for user "x"', detail: 'd' });
  });
});

describe('messages the router writes to clients, read back by pg-protocol (what node-postgres runs on)', () => {
  it('AuthenticationOk, AuthenticationSASL, ParameterStatus, BackendKeyData, ReadyForQuery', async () => {
    const messages = await parseWithPg(
      Buffer.concat([
        authenticationOk(),
        authenticationSasl(['SCRAM-SHA-256']),
        parameterStatus('server_version', '15.8'),
        backendKeyData(4242, Buffer.from([1, 2, 3, 4])),
        readyForQuery(TransactionStatus.InTransaction),
      ]),
    );
    expect(messages.map((m) => m['name'])).toEqual(['authenticationOk', 'authenticationSASL', 'parameterStatus', 'backendKeyData', 'readyForQuery']);
    expect(messages[1]).toMatchObject({ mechanisms: ['SCRAM-SHA-256'] });
    expect(messages[2]).toMatchObject({ parameterName: 'server_version', parameterValue: '15.8' });
    expect(messages[3]).toMatchObject({ processID: 4242, secretKey: 0x01020304 });
    expect(messages[4]).toMatchObject({ status: 'T' });
  });
});

describe('messages the router writes to members are byte for byte what pg-protocol writes', () => {
  it('StartupMessage, Query, PasswordMessage, SASL messages, CancelRequest, Terminate', () => {
    // pg-protocol always appends client_encoding=UTF8.
    const params = Object.assign(emptyParams(), { user: 'app', database: 'db', application_name: 'x', client_encoding: 'UTF8' });
    expect(startupMessage(3, 0, params).equals(serialize.startup({ user: 'app', database: 'db', application_name: 'x' }))).toBe(true);
    expect(query('SELECT 1').equals(serialize.query('SELECT 1'))).toBe(true);
    expect(passwordMessage('md5abc').equals(serialize.password('md5abc'))).toBe(true);
    expect(saslInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=,r=abc')).equals(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=,r=abc'))).toBe(true);
    expect(saslResponse(Buffer.from('c=biws,r=abc,p=xyz')).equals(serialize.sendSCRAMClientFinalMessage('c=biws,r=abc,p=xyz'))).toBe(true);
    expect(cancelRequest(7, Buffer.from([0, 0, 0, 9])).equals(serialize.cancel(7, 9))).toBe(true);
    expect(terminate().equals(serialize.end())).toBe(true);
  });

  it('Parse, Bind, Execute, Sync of the unnamed statement and portal', () => {
    const text = 'SELECT secret FROM patroni_router.user_secret($1)';
    expect(parseMessage(text, [19]).equals(serialize.parse({ text, types: [19] }))).toBe(true);
    expect(parseMessage('SELECT 1', []).equals(serialize.parse({ text: 'SELECT 1' }))).toBe(true);
    expect(bind(["o'hara; --", 'zoë']).equals(serialize.bind({ values: ["o'hara; --", 'zoë'] }))).toBe(true);
    expect(bind([]).equals(serialize.bind({}))).toBe(true);
    expect(execute().equals(serialize.execute({}))).toBe(true);
    expect(sync().equals(serialize.sync())).toBe(true);
  });
});

describe('parseDataRow', () => {
  it('copies each column, and reads NULL as null', () => {
    const row = dataRow(['md5abc', null, '']);
    const parsed = parseDataRow(frameOf(row).body);
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed.columns.map((c) => c?.toString() ?? null)).toEqual(['md5abc', null, '']);
    row.fill(0);
    expect(parsed.columns[0]?.toString()).toBe('md5abc');
  });

  it('says what is wrong with a malformed row', () => {
    const row = frameOf(dataRow(['abc'])).body;
    expect(parseDataRow(Buffer.from([0]))).toEqual({ error: 'DataRow too short' });
    expect(parseDataRow(row.subarray(0, row.length - 1))).toEqual({ error: 'DataRow truncated' });
    expect(parseDataRow(Buffer.concat([row, Buffer.from([0])]))).toEqual({ error: 'DataRow has trailing bytes' });
  });
});

describe('stream-tail checks', () => {
  it('ReadyForQuery at the end of a backend chunk; Terminate at the end of a client chunk', () => {
    expect(endsWithReadyForQuery(Buffer.concat([message('C', 'SELECT 1\0'), readyForQuery(TransactionStatus.Idle)]))).toBe(true);
    expect(endsWithReadyForQuery(readyForQuery(TransactionStatus.Failed))).toBe(true);
    expect(endsWithReadyForQuery(message('Z', 'X'))).toBe(false);
    expect(endsWithReadyForQuery(message('C', 'Z\0\0\0\x05I'))).toBe(true); // a tail can look like one: callers know this
    expect(endsWithTerminate(Buffer.concat([query('SELECT 1'), terminate()]))).toBe(true);
    expect(endsWithTerminate(query('SELECT 1'))).toBe(false);
  });
});

describe('FrameReader', () => {
  const stream = Buffer.concat([
    message('R', Buffer.from([0, 0, 0, 0])),
    message('S', Buffer.from('in_hot_standby\0off\0')),
    message('K', Buffer.from([0, 0, 0x10, 0x20, 9, 8, 7, 6])),
    message('Z', Buffer.from('I')),
    Buffer.from('tail'),
  ]);

  it('splits messages fed one byte at a time and keeps the rest', () => {
    const framer = new FrameReader();
    const types: string[] = [];
    for (const byte of stream.subarray(0, stream.length - 4)) {
      framer.push(Buffer.from([byte]));
      for (let f = framer.next(); f !== undefined; f = framer.next()) types.push(String.fromCharCode(f.code));
    }
    framer.push(stream.subarray(stream.length - 4));
    expect(framer.next()).toBeUndefined();
    expect(types).toEqual(['R', 'S', 'K', 'Z']);
    expect(framer.rest().toString()).toBe('tail');
  });

  it('returns raw bytes identical to the input', () => {
    const framer = new FrameReader();
    framer.push(stream);
    const raws: Buffer[] = [];
    for (let f = framer.next(); f !== undefined; f = framer.next()) raws.push(f.raw);
    expect(Buffer.concat([...raws, framer.rest()]).equals(stream)).toBe(true);
  });

  it('refuses a length of 2^31 without allocating it', () => {
    const framer = new FrameReader();
    framer.push(Buffer.from([0x44, 0x80, 0, 0, 0]));
    expect(() => framer.next()).toThrow(FrameTooLarge);
    const small = new FrameReader();
    small.push(Buffer.from([0x44, 0, 0, 0, 3]));
    expect(() => small.next()).toThrow(FrameTooLarge);
  });

  it('reads BackendKeyData (4-byte and long keys) and ParameterStatus', () => {
    expect(parseBackendKeyData(Buffer.from([0, 0, 1, 0, 1, 2, 3, 4]))).toEqual({ processId: 256, secret: Buffer.from([1, 2, 3, 4]) });
    expect(parseBackendKeyData(Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.alloc(32, 5)]))?.secret.length).toBe(32);
    expect(parseBackendKeyData(Buffer.alloc(3))).toBeUndefined();
    expect(parseParameterStatus(Buffer.from('in_hot_standby\0on\0'))).toEqual({ name: 'in_hot_standby', value: 'on' });
    expect(parseParameterStatus(Buffer.from('broken'))).toBeUndefined();
  });
});
