// The PostgreSQL pass of `npm test`: the whole suite again, every server on its own fresh
// PostgreSQL database (TESSERA_TEST_DB=postgresql; dropped at the end of the run).
// CI always runs it; on a machine without PostgreSQL it says so and stops.
import { spawnSync } from 'node:child_process';

import pg from 'pg';

const adminUrl = process.env.TESSERA_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.end();
} catch (err) {
  const message = `PostgreSQL is not reachable at ${adminUrl} (${err.message})`;
  if (process.env.CI) {
    console.error(`test:postgresql: ${message}; CI requires it`);
    process.exit(1);
  }
  console.warn(`\n*** test:postgresql: ${message}: the PostgreSQL pass did NOT run. Set TESSERA_POSTGRES_ADMIN_URL to run it. ***\n`);
  process.exit(0);
}
const result = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TESSERA_TEST_DB: 'postgresql' },
});
process.exit(result.status ?? 1);
