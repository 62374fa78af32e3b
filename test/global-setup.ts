import { dropRunDatabases, testDatabaseKind } from './support/database.js';

/** After the whole run: drop the PostgreSQL databases its servers created. */
export async function teardown(): Promise<void> {
  const run = process.env.TESSERA_TEST_RUN;
  if (testDatabaseKind === 'postgresql' && run) await dropRunDatabases(run);
}
