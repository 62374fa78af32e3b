// The PostgreSQL pass of `npm test`: the whole suite again, every server on its own fresh
// PostgreSQL database (TESSERA_TEST_DB=postgresql; dropped at the end of the run).
// CI always runs it; on a machine without PostgreSQL it says so and stops. Afterwards it runs
// the fault-injection suite (PostgreSQL restarts), see below.
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
const env = { ...process.env, TESSERA_TEST_DB: 'postgresql' };
const result = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
const status = result.status ?? 1;

// Then the fault-injection suite (test/faults, vitest.faults.config.ts): it stops and restarts
// the local PostgreSQL cluster, so it runs alone, after the normal pass. Skipped when the pass
// was narrowed to some files (arguments given) and on machines without pg_ctlcluster.
if (process.argv.length > 2) {
  console.warn('\n*** test:postgresql: arguments given: the fault-injection suite (test/faults) did NOT run. ***\n');
  process.exit(status);
}
if (spawnSync('pg_ctlcluster', ['--help'], { stdio: 'ignore' }).error) {
  const message = 'pg_ctlcluster is not available, so the fault-injection suite (test/faults) cannot restart PostgreSQL';
  if (process.env.CI) {
    console.error(`test:postgresql: ${message}; CI requires it`);
    process.exit(1);
  }
  console.warn(`\n*** test:postgresql: ${message}: it did NOT run. ***\n`);
  process.exit(status);
}
const faults = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.faults.config.ts'], { stdio: 'inherit', env });
process.exit(status !== 0 ? status : (faults.status ?? 1));
