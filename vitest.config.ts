import { defineConfig } from 'vitest/config';

// Integration tests start real etcd/Patroni/PostgreSQL; on a 2-core machine they must not
// run side by side, so files run one at a time. Unit tests are fast either way.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kills what a crashed worker's real clusters left behind (see test/cluster/process-registry.ts).
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
