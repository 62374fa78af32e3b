import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { migrateDatabase, migrationPaths } from '../../src/db/migrate.js';
import { createPostgresDatabase, openTestDb, testDatabaseKind } from '../support/database.js';
import { root } from '../support/server.js';

// @ts-expect-error plain ESM script without types
const { derivePostgresqlSchema } = (await import('../../scripts/derive-postgresql-schema.mjs')) as { derivePostgresqlSchema(s: string): string };

const read = (path: string): string => readFileSync(join(root, path), 'utf8');

describe('one data model for SQLite and PostgreSQL', () => {
  it('the committed PostgreSQL schema is exactly the one derived from prisma/schema.prisma', () => {
    expect(read('prisma/postgresql/schema.prisma')).toBe(derivePostgresqlSchema(read('prisma/schema.prisma')));
  });

  it('the migrations are current (each snapshot is its schema): run scripts/new-migration.mjs', () => {
    expect(read('prisma/postgresql/migrations/schema.snapshot.prisma')).toBe(read('prisma/postgresql/schema.prisma'));
    expect(read('prisma/migrations/schema.snapshot.prisma')).toBe(read('prisma/schema.prisma'));
  });

  // Runs in the PostgreSQL pass of the suite (TESSERA_TEST_DB=postgresql).
  if (testDatabaseKind === 'postgresql') it('migrating a fresh PostgreSQL database creates every table, idempotently', async () => {
    const database = await createPostgresDatabase();
    try {
      const first = await migrateDatabase({ databaseUrl: database.url });
      expect(first.applied.length).toBeGreaterThan(0);
      expect((await migrateDatabase({ databaseUrl: database.url })).applied).toEqual([]);
      const db = await openTestDb(database.url);
      try {
        const tables = (await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")).map((r) => r.name);
        const models = [...readFileSync(migrationPaths('postgresql').schemaPath, 'utf8').matchAll(/^model (\w+) \{/gm)].map((m) => m[1]);
        expect(models.length).toBeGreaterThan(15);
        for (const model of models) expect(tables).toContain(model);
      } finally {
        await db.close();
      }
    } finally {
      await database.drop();
    }
  });

  // Regression: the wasm engine's own timers kept every `tessera` command alive for 10 s on PostgreSQL.
  if (testDatabaseKind === 'postgresql') it('a finished migration leaves nothing that keeps the process alive', async () => {
    const database = await createPostgresDatabase();
    try {
      const script = `const m = await import(${JSON.stringify(join(root, 'dist/db/migrate.js'))});
        await m.migrateDatabase({ databaseUrl: ${JSON.stringify(database.url)} });
        await new Promise((r) => setImmediate(r));
        console.log(JSON.stringify(process.getActiveResourcesInfo()));
        process.exit(0);`;
      const { execFileSync } = await import('node:child_process');
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(JSON.parse(out.trim().split('\n').pop()!)).not.toContain('Timeout');
    } finally {
      await database.drop();
    }
  });
});
