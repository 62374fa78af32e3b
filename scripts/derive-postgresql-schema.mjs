// prisma/schema.prisma (SQLite) is the one source of truth for the data model.
// The PostgreSQL schema is derived from it: same models, another provider and client output.
// `npm run build` rewrites prisma/postgresql/schema.prisma; test/unit/schemas.test.ts fails if
// the committed copy differs from what this derivation produces.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function derivePostgresqlSchema(sqliteSchema) {
  const header = '// GENERATED from prisma/schema.prisma by scripts/derive-postgresql-schema.mjs: do not edit.\n';
  const out = sqliteSchema
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace(/output\s*=\s*"\.\.\/src\/generated\/sqlite"/, 'output          = "../../src/generated/postgresql"');
  if (out === sqliteSchema || !out.includes('"postgresql"') || !out.includes('src/generated/postgresql')) {
    throw new Error('prisma/schema.prisma no longer has the expected provider/output lines');
  }
  return header + out;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = join(root, 'prisma/postgresql/schema.prisma');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, derivePostgresqlSchema(readFileSync(join(root, 'prisma/schema.prisma'), 'utf8')));
}
