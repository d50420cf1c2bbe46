/**
 * The drop-in claim, checked: every session test (test/unit/proxy/session.test.ts, a real
 * ProxyServer against FakePostgres members) runs again with src/proxy/byte-relay.ts's
 * ByteRelay replaced by bench/relay-prototypes/proposed-byte-relay.ts's ProposedByteRelay.
 */
import { afterAll, expect, vi } from 'vitest';

const made = vi.hoisted(() => ({ relays: 0 }));

vi.mock('../../../src/proxy/byte-relay.js', async () => {
  const { ProposedByteRelay } = await import('../../../bench/relay-prototypes/proposed-byte-relay.js');
  class CountedRelay extends ProposedByteRelay {
    constructor(...args: ConstructorParameters<typeof ProposedByteRelay>) {
      super(...args);
      made.relays++;
    }
  }
  return { ByteRelay: CountedRelay };
});

await import('../proxy/session.test.js');

afterAll(() => {
  // The sessions really ran on the proposed relay.
  expect(made.relays).toBeGreaterThan(10);
});
