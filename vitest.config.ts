import { defineConfig } from 'vitest/config';

// Integration tests start real etcd/Patroni/PostgreSQL; on a 2-core machine they must not
// run side by side, so files run one at a time. Unit tests are fast either way.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
