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

/**
 * The structure of an SQLite file, as SQLite itself reports it: per table its columns, indexes
 * (with their columns, uniqueness and partial-index condition) and foreign keys.
 */
function structure(file: string): Record<string, unknown> {
  const tables = query<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations' ORDER BY name");
  const indexSql = new Map(query<{ name: string; sql: string | null }>(file, "SELECT name, sql FROM sqlite_master WHERE type = 'index'").map((r) => [r.name, r.sql]));
  const condition = (sql: string | null | undefined) => (sql && /\bWHERE\b/i.test(sql) ? sql.replace(/^[\s\S]*?\bWHERE\b/i, '').replace(/[\s()]/g, '') : null);
  return Object.fromEntries(tables.map(({ name }) => {
    const q = JSON.stringify(name);
    const indexes = query<{ name: string; unique: number; origin: string; partial: number }>(file, `PRAGMA index_list(${q})`)
      .map((ix) => ({
        name: ix.name,
        unique: ix.unique,
        origin: ix.origin,
        columns: query<{ name: string }>(file, `PRAGMA index_info(${JSON.stringify(ix.name)})`).map((c) => c.name),
        where: ix.partial ? condition(indexSql.get(ix.name)) : null,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return [name, {
      // By name: a column a migration added comes last, where the schema may list it earlier.
      columns: query<{ cid?: number; name: string }>(file, `PRAGMA table_xinfo(${q})`)
        .map(({ cid: _cid, ...column }) => column)
        .sort((a, b) => a.name.localeCompare(b.name)),
      indexes,
      foreignKeys: query(file, `PRAGMA foreign_key_list(${q})`),
    }];
  }));
}

/** A file built straight from a schema (the engine's SQL from nothing to it), not from migrations. */
async function fromSchema(name: string, schemaText: string): Promise<string> {
  const file = join(scratch, name, 'tessera.db');
  await migrateDatabase({ databaseUrl: `file:${file}`, migrationsDir: join(scratch, 'no-migrations') }); // creates the empty file
  const engine = await openSchemaEngine({ schemaPath: defaultSchemaPath, adapterFactory: createAdapterFactory(`file:${file}`) });
  try {
    const sql = await engine.diffSql('empty', { schemaText });
    const db = new Database(file, { fileMustExist: true }) as SqliteDatabase & { exec(sql: string): void };
    keepAlive.push(db);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  } finally {
    await engine.close();
  }
  return file;
}

// The engine cannot describe an SQLite database that has partial indexes through better-sqlite3
// (it quotes index names as strings with double quotes, which that build of SQLite rejects), so
// drift is found by comparing structures: the committed migrations against the schema itself.
describe('committed migrations', () => {
  it('produce exactly prisma/schema.prisma (a schema change needs `node scripts/new-migration.mjs <name>`)', async () => {
    const migrated = join(scratch, 'drift', 'tessera.db');
    await migrateDatabase({ databaseUrl: `file:${migrated}` });
    const schemaText = await readFile(defaultSchemaPath, 'utf8');
    const expected = structure(await fromSchema('from-schema', schemaText));
    expect(Object.keys(expected).length).toBeGreaterThan(15);
    expect(structure(migrated)).toEqual(expected);

    // The check can fail: a column, or an index condition, the migrations lack shows up.
    const withColumn = schemaText.replace(/^model User \{\n/m, 'model User {\n  nickname String?\n');
    expect(withColumn).not.toBe(schemaText);
    expect(structure(migrated)).not.toEqual(structure(await fromSchema('with-column', withColumn)));
    const fullIndex = schemaText.replace('@@index([grantId], where: raw("\\"grantId\\" IS NOT NULL"))', '@@index([grantId])');
    expect(fullIndex).not.toBe(schemaText);
    expect(structure(migrated)).not.toEqual(structure(await fromSchema('full-index', fullIndex)));
  });
});
