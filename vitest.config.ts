import { randomBytes } from 'node:crypto';

import { defineConfig } from 'vitest/config';

// One id per run: PostgreSQL test databases carry it, and the global teardown drops them.
process.env.TESSERA_TEST_RUN ??= randomBytes(4).toString('hex');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: { TESSERA_TEST_RUN: process.env.TESSERA_TEST_RUN },
    // Flow suites start real server processes; keep two cores from thrashing.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
