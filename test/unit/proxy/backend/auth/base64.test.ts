import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../../../../src/proxy/backend/auth/base64.js';

describe('decodeBase64 (strict)', () => {
  it('decodes padded base64 from text and from bytes, like Node for valid input', () => {
    for (const sample of ['', 'Zg==', 'Zm8=', 'Zm9v', 'W22ZaJ0SNY7soEsUEjb6gQ==', Buffer.from([0, 255, 1, 254, 7]).toString('base64')]) {
      expect(decodeBase64(sample)?.equals(Buffer.from(sample, 'base64'))).toBe(true);
      expect(decodeBase64(Buffer.from(sample))?.equals(Buffer.from(sample, 'base64'))).toBe(true);
    }
  });

  it('rejects what Node would quietly accept', () => {
    for (const bad of ['Zg', 'Zm9', 'Zm9v!', 'Zm 9v', 'Zg=a', '=Zg=', 'Z===', 'Zm9v\n', 'Zm-_', 'Zg==Zg==', 'é===']) {
      expect(decodeBase64(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
