import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

import pg from 'pg';

/**
 * Direct access to a test server's database (what an operator, or an attacker with disk access,
 * sees), for SQLite and PostgreSQL alike. SQL uses `$1` placeholders and quoted identifiers.
 */
export interface TestDb {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  close(): void;
}
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  options?: { fileMustExist?: boolean; timeout?: number },
) => SqliteDatabase;

export const testDatabaseKind: 'sqlite' | 'postgresql' = process.env.TESSERA_TEST_DB === 'postgresql' ? 'postgresql' : 'sqlite';
export const postgresAdminUrl = process.env.TESSERA_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function openTestDb(databaseUrl: string): Promise<TestDb> {
  if (databaseUrl.startsWith('file:')) {
    const db = new Sqlite(databaseUrl.slice('file:'.length), { fileMustExist: true, timeout: 5000 });
    const value = (p: unknown) => (typeof p === 'boolean' ? Number(p) : p instanceof Date ? p.getTime() : p);
    // `$n` placeholders become `?`, with the values in the order they appear.
    const prepare = (sql: string, params: unknown[]) => {
      const order = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1);
      return { stmt: db.prepare(sql.replace(/\$\d+/g, '?')), values: order.map((i) => value(params[i])) };
    };
    return {
      query: async <T>(sql: string, params: unknown[] = []) => {
        const { stmt, values } = prepare(sql, params);
        return stmt.all(...values) as T[];
      },
      run: async (sql, params = []) => {
        const { stmt, values } = prepare(sql, params);
        return stmt.run(...values).changes;
      },
      close: async () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    run: async (sql, params = []) => (await client.query(sql, params)).rowCount ?? 0,
    close: async () => client.end(),
  };
}

/** Tables of the data model (without SQLite internals and Prisma's migration log). */
export async function tableNames(databaseUrl: string): Promise<string[]> {
  const db = await openTestDb(databaseUrl);
  try {
    const rows = databaseUrl.startsWith('file:')
      ? await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'")
      : await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'");
    return rows.map((r) => r.name);
  } finally {
    await db.close();
  }
}

export interface StoredValue {
  table: string;
  /** Index of the row within its table (to pair columns of one row). */
  row: number;
  column: string;
  value: string;
}

/** Every text value of every row of every table, except Prisma's migration log. */
export async function dumpTextValues(databaseUrl: string): Promise<StoredValue[]> {
  const names = await tableNames(databaseUrl);
  const db = await openTestDb(databaseUrl);
  try {
    const out: StoredValue[] = [];
    for (const name of names) {
      const rows = await db.query(`SELECT * FROM "${name.replace(/"/g, '""')}"`);
      rows.forEach((row, index) => {
        for (const [column, value] of Object.entries(row)) {
          if (typeof value === 'string') out.push({ table: name, row: index, column, value });
          else if (Buffer.isBuffer(value)) out.push({ table: name, row: index, column, value: value.toString('utf8') });
        }
      });
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Every string leaf of a JSON document (object keys excluded). */
export function jsonStringLeaves(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(parsed);
  return out;
}

/** A fresh PostgreSQL database for one test server, and how to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  // Named after the test run (vitest.config.ts) so the global teardown drops what a test left.
  const run = process.env.TESSERA_TEST_RUN ?? 'adhoc';
  const name = `tessera_test_${run}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: postgresAdminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Drops every database a test run created (test/global-setup.ts calls it at the end). */
export async function dropRunDatabases(run: string): Promise<number> {
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`tessera_test_${run}_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    return rows.length;
  } finally {
    await admin.end();
  }
}
