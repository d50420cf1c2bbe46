import { describe, expect, it } from 'vitest';
import { parseServerError } from '../../../../../src/proxy/backend/auth/wire/server-error.js';

describe('parseServerError', () => {
  it('reads severity, SQLSTATE, message and detail', () => {
    const body = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "x"\0Dd\0\0');
    expect(parseServerError(body)).toEqual({ severity: 'FATAL', code: '28P01', message: 'password authentication failed for user "x"', detail: 'd' });
  });
});
