/**
 * The auth_query role as the unit tests' scripted PostgreSQL knows it: its name and password,
 * the md5 hash a member stores for it, and the answer it gives to an md5 challenge with `salt`.
 */
import { createHash } from 'node:crypto';

export const ROLE = 'patroni_router_auth';
export const PASSWORD = 'auth-role-password-Zq9';
export const MD5 = 'md57541d4e65fae11bd07f18dc6fe2b02bc';
export const salt = Buffer.from([7, 7, 7, 7]);
export const md5Answer =
  'md5' +
  createHash('md5')
    .update(
      createHash('md5')
        .update(PASSWORD + ROLE)
        .digest('hex') + salt.toString('latin1'),
      'latin1',
    )
    .digest('hex');
