import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { createAdapterFactory } from '../../src/db/client.js';
import { defaultMigrationsDir, defaultSchemaPath, migrateDatabase } from '../../src/db/migrate.js';
import { openSchemaEngine } from '../../src/db/schema-engine.js';

// better-sqlite3 ships no types, and we only need a read-only peek at the file.
interface SqliteStatement {
  all(...params: unknown[]): unknown[];
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  options?: { readonly?: boolean; fileMustExist?: boolean },
) => SqliteDatabase;

// better-sqlite3 objects collected during a GC that wasm code triggers abort the process on Node 24
// (see src/db/schema-engine.ts), and the schema engine runs as wasm in the tests below: keep every
// Database and Statement created here reachable until the file is done.
const keepAlive: object[] = [];

function query<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const statement = db.prepare(sql);
  keepAlive.push(db, statement);
  try {
    return statement.all() as T[];
  } finally {
    db.close();
  }
}

const scratch = await mkdtemp(join(tmpdir(), 'tessera-migrate-test-'));
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const committedMigrations = (await readdir(defaultMigrationsDir, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('migrateDatabase', () => {
  // A folder that does not exist yet: migrating must create it and the file.
  const file = join(scratch, 'fresh', 'nested', 'tessera.db');
  const databaseUrl = `file:${file}`;

  it('creates every table in a fresh SQLite file and records the migrations', async () => {
    expect(committedMigrations.length).toBeGreaterThan(0);

    const { applied } = await migrateDatabase({ databaseUrl });
    expect(applied).toEqual(committedMigrations);

    const tables = query<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'table'").map(
      (row) => row.name,
    );
    for (const table of ['User', 'Client', 'OidcSession', 'OidcGrant', 'JwtAccessToken', '_prisma_migrations']) {
      expect(tables).toContain(table);
    }

    const records = query<{ migration_name: string; finished_at: unknown; rolled_back_at: unknown }>(
      file,
      'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(records.map((row) => row.migration_name)).toEqual(committedMigrations);
    for (const row of records) {
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it('applies nothing the second time', async () => {
    const { applied } = await migrateDatabase({ databaseUrl });
    expect(applied).toEqual([]);
    const count = query<{ n: number | bigint }>(file, 'SELECT count(*) AS n FROM _prisma_migrations');
    expect(Number(count[0]?.n)).toBe(committedMigrations.length);
  });

  it('leaves the file usable by other connections (the engine closes its exclusive connection)', async () => {
    const rows = query<{ n: number | bigint }>(file, 'SELECT count(*) AS n FROM "User"');
    expect(Number(rows[0]?.n)).toBe(0);
  });
});

describe('committed migrations', () => {
  it('produce exactly prisma/schema.prisma (a schema change needs `node scripts/new-migration.mjs <name>`)', async () => {
    const file = join(scratch, 'drift', 'tessera.db');
    await migrateDatabase({ databaseUrl: `file:${file}` });

    const engine = await openSchemaEngine({
      schemaPath: defaultSchemaPath,
      adapterFactory: createAdapterFactory(`file:${file}`),
    });
    try {
      const schemaText = await readFile(defaultSchemaPath, 'utf8');
      expect(await engine.diffSql('database', { schemaText })).toBe('');

      // The check can fail: a column the migrations lack shows up in the diff.
      const changed = schemaText.replace(/^model User \{\n/m, 'model User {\n  nickname String?\n');
      expect(changed).not.toBe(schemaText);
      expect(await engine.diffSql('database', { schemaText: changed })).toMatch(
        /ALTER TABLE "User" ADD COLUMN "nickname" TEXT/,
      );
    } finally {
      await engine.close();
    }
  });
});
