import { randomBytes } from 'node:crypto';

import { configDefaults, defineConfig } from 'vitest/config';

// One id per run: PostgreSQL test databases carry it, and the global teardown drops them.
process.env.TESSERA_TEST_RUN ??= randomBytes(4).toString('hex');

// Suites that define tests only on PostgreSQL (a database check, or PostgreSQL machinery).
// Vitest fails a file that defines no test, so the SQLite pass leaves them out altogether.
const postgresqlOnly = ['test/flows/multi-instance.test.ts', 'test/unit/postgres-writer.test.ts'];
// And suites of SQLite-only machinery, which the PostgreSQL pass leaves out.
// The example's demo always runs on its own SQLite database, whatever the pass.
const sqliteOnly = [
  'test/unit/sqlite-writer.test.ts',
  'test/unit/token-lookup-plan.test.ts',
  'test/unit/revocation-plan.test.ts',
  'test/flows/example-spa-api.test.ts',
];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fault injection (restarts PostgreSQL) runs on its own: vitest.faults.config.ts.
    exclude: [
      ...configDefaults.exclude,
      'test/faults/**',
      ...(process.env.TESSERA_TEST_DB === 'postgresql' ? sqliteOnly : postgresqlOnly),
    ],
    globalSetup: ['test/global-setup.ts'],
    env: { TESSERA_TEST_RUN: process.env.TESSERA_TEST_RUN },
    // Flow suites start real server processes; keep two cores from thrashing.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
