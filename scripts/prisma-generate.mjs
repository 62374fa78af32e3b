// Generates the Prisma clients (SQLite and PostgreSQL) without Prisma's native schema engine.
// The Prisma CLI only checks that PRISMA_SCHEMA_ENGINE_BINARY names an existing file;
// generating the TypeScript client never starts that engine, and this machine cannot
// download it. Migrations use @prisma/schema-engine-wasm instead (src/db/migrate.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { derivePostgresqlSchema } from './derive-postgresql-schema.mjs';

const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js');

mkdirSync('prisma/postgresql', { recursive: true });
writeFileSync('prisma/postgresql/schema.prisma', derivePostgresqlSchema(readFileSync('prisma/schema.prisma', 'utf8')));

for (const schema of ['prisma/schema.prisma', 'prisma/postgresql/schema.prisma']) {
  const result = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], {
    stdio: 'inherit',
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
