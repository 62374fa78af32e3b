import { randomBytes } from 'node:crypto';

import { defineConfig } from 'vitest/config';

// Fault-injection suite (test/faults): stops and restarts the local PostgreSQL, so it runs
// alone, one file at a time, after the normal PostgreSQL pass (scripts/test-postgresql.mjs).
// One id per run: PostgreSQL test databases carry it, and the global teardown drops them.
process.env.TESSERA_TEST_RUN ??= randomBytes(4).toString('hex');

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: { TESSERA_TEST_RUN: process.env.TESSERA_TEST_RUN },
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
