import { createRequire } from 'node:module';

import pg from 'pg';

import { sqliteFilePath, type DatabaseKind, type PoolOptions } from './client.js';
import { batchReads, READ_BATCHES } from './batched-reads.js';
import { createPostgresWriter } from './postgres-writer.js';
import { coalesceReads } from './shared-reads.js';
import { createSqliteWriter } from './sqlite-writer.js';

/**
 * Reads on the hottest paths (introspection, client authentication) without the ORM: Prisma's
 * SQLite adapter prepares every statement anew, which cost more than the rest of an
 * introspection request (bench/README.md). Here each statement is prepared once — a cached
 * better-sqlite3 statement on SQLite, a named prepared statement on PostgreSQL — and reads
 * always see committed data: nothing is cached but the statement text.
 * SQL is written with `$1…` placeholders and quoted identifiers, valid on both databases.
 */
/** A timestamp column as epoch milliseconds (SQLite: integer ms; PostgreSQL: Date), or null. */
export function readMillis(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : Date.parse(String(value));
}

/** A timestamp column as a Date, as Prisma would return it, or null. */
export function readDate(value: unknown): Date | null {
  const ms = readMillis(value);
  return ms === null ? null : new Date(ms);
}

/** A boolean column (SQLite: 0/1; PostgreSQL: boolean). */
export function readBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't';
}

export interface FastReads {
  one(sql: string, params: readonly unknown[]): Promise<Record<string, unknown> | undefined>;
  /** Every row of a read, in the statement's order. */
  rows(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * The row of `table` whose unique text column `key` equals `value` (`columns`: the select
   * list). On PostgreSQL the finds of one shape asked for together go out as one statement
   * (batched-reads.ts); each still reads the database as of a moment after its call. Its SQL is
   * built once per `point` object: pass the same object for the same shape.
   */
  find(point: PointRead, value: string): Promise<Record<string, unknown> | undefined>;
  /**
   * The same read for a row that many concurrent requests want (a client, an API), each caller
   * seeing the row as of a moment after its call: identical reads in flight together are
   * coalesced (shared-reads.ts). On SQLite, the writer thread reads it on its own connection,
   * the only one whose page cache the token writes do not keep emptying.
   */
  shared(sql: string, params: readonly string[]): Promise<Record<string, unknown> | undefined>;
  /**
   * One single-statement write, committed before the promise settles, for the token paths. On
   * SQLite it answers false when the write lock could not be had within the busy timeout, and the
   * caller then writes through Prisma instead. Dates and booleans are converted per driver.
   */
  write(sql: string, params: readonly unknown[]): Promise<boolean>;
  close(): Promise<void>;
}

/** A point read by a unique text column; quoted identifiers. */
export interface PointRead {
  readonly table: string;
  readonly columns: string;
  readonly key: string;
}
const pointSql = (p: PointRead) => `SELECT ${p.columns} FROM "${p.table}" WHERE "${p.key}" = $1`;

/** PostgreSQL: one statement for many point reads, one row per value in order (NULLs: none). */
export function pointBatchSql(p: PointRead): string {
  return `SELECT t.* FROM unnest($1::text[]) WITH ORDINALITY AS q(v, n)
    LEFT JOIN LATERAL (SELECT 1 AS tessera_found, ${p.columns} FROM "${p.table}" WHERE "${p.key}" = q.v LIMIT 1) t ON TRUE ORDER BY q.n`;
}

interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
}
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  close(): void;
}
// better-sqlite3 ships no type declarations; this file is the only direct user.
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  options?: { timeout?: number; fileMustExist?: boolean },
) => SqliteDatabase;

export interface FastReadsOptions {
  /** `wal` (the server) switches an SQLite file to write-ahead logging; `keep` leaves it. */
  readonly journal: 'wal' | 'keep';
}

/**
 * A better-sqlite3 connection with every commit durable. better-sqlite3's SQLite defaults a
 * connection to a WAL database to synchronous=NORMAL, where a commit can be lost to a power
 * failure (not to a crash of the process); a revocation must not be, so FULL is set on every
 * connection Tessera opens (Prisma's included: see `makeCommitsDurable` in client.ts).
 */
export function openSqlite(file: string, options: { timeout: number; fileMustExist: boolean }): SqliteDatabase {
  const db = new Sqlite(file, options);
  db.pragma('synchronous = FULL');
  return db;
}

function sqliteReads(databaseUrl: string, pool: PoolOptions, options: FastReadsOptions): FastReads {
  const db = openSqlite(sqliteFilePath(databaseUrl), { timeout: pool.connectTimeoutSeconds * 1000, fileMustExist: options.journal === 'keep' });
  if (options.journal === 'wal') {
    // Write-ahead logging: one fsync per commit instead of several (every token issued is a
    // commit), and readers never wait for the writer. The journal mode belongs to the file, so
    // Prisma's connection uses it too; synchronous=FULL is set per connection (openSqlite).
    db.pragma('journal_mode = WAL');
  }
  // SQL is written with `$n` placeholders; SQLite gets positional `?`, the values repeated in
  // order of appearance. Converted once per statement text.
  const shapes = new Map<string, { text: string; order: number[] }>();
  function positional(sql: string) {
    let shape = shapes.get(sql);
    if (!shape) {
      shape = { text: sql.replace(/\$\d+/g, '?'), order: [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1) };
      shapes.set(sql, shape);
    }
    return shape;
  }
  const statements = new Map<string, SqliteStatement>();
  const sqliteValue = (v: unknown): unknown => (v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v);
  // Writes go to a thread of their own (sqlite-writer.ts): group commit, fsync off the event loop.
  const writer = createSqliteWriter(sqliteFilePath(databaseUrl), pool.connectTimeoutSeconds * 1000);
  const pointSqls = new WeakMap<PointRead, string>();
  function prepared(sql: string, params: readonly unknown[]): { stmt: SqliteStatement; values: unknown[] } {
    const { text, order } = positional(sql);
    let stmt = statements.get(text);
    if (!stmt) {
      stmt = db.prepare(text);
      statements.set(text, stmt);
    }
    return { stmt, values: order.map((i) => sqliteValue(params[i])) };
  }
  return {
    async one(sql, params) {
      const { stmt, values } = prepared(sql, params);
      return stmt.get(...values) as Record<string, unknown> | undefined;
    },
    async rows(sql, params) {
      const { stmt, values } = prepared(sql, params);
      return stmt.all(...values) as Record<string, unknown>[];
    },
    async find(point, value) {
      let sql = pointSqls.get(point);
      if (!sql) {
        sql = pointSql(point);
        pointSqls.set(point, sql);
      }
      const { stmt, values } = prepared(sql, [value]);
      return stmt.get(...values) as Record<string, unknown> | undefined;
    },
    // Rows every token request wants are read by the writer thread, on its warm connection.
    shared: coalesceReads((sql, params) => {
      const { text, order } = positional(sql);
      return writer.read({ text, values: order.map((i) => params[i]) });
    }),
    write(sql, params) {
      const { text, order } = positional(sql);
      return writer.write({ text, values: order.map((i) => sqliteValue(params[i])) });
    },
    async close() {
      await writer.close();
      db.close();
    },
  };
}

/**
 * Prisma keeps a DateTime in a `timestamp(3)` column (no time zone) as UTC wall time. node-postgres
 * would send a Date as the process's local time, and read such a column as local time: in any
 * zone but UTC, a token written here would expire hours off from one Prisma wrote (and from what
 * the sweeper and the revoker compare). So this path sends every Date as UTC (ISO 8601; PostgreSQL
 * ignores the `Z` for a column without zone) and reads `timestamp` as UTC.
 */
const PG_TIMESTAMP = 1114;
function pgParam(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}
function parseUtcTimestamp(text: string): Date | string {
  const date = new Date(`${text.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? text : date; // 'infinity' and the like stay text
}
const utcTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_TIMESTAMP && format !== 'binary' ? parseUtcTimestamp : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function postgresReads(databaseUrl: string, options: PoolOptions): FastReads {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    types: utcTypes,
    max: Math.max(2, Math.ceil(options.poolSize / 2)),
    connectionTimeoutMillis: options.connectTimeoutSeconds * 1000,
    statement_timeout: options.statementTimeoutSeconds * 1000,
    allowExitOnIdle: true,
  });
  pool.on('error', () => undefined); // an idle connection dropped by the server is replaced on next use
  const names = new Map<string, string>();
  async function rows(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    let name = names.get(sql);
    if (!name) {
      name = `tessera_${names.size}`;
      names.set(sql, name);
    }
    const result = await pool.query({ name, text: sql, values: params.map(pgParam) });
    return result.rows as Record<string, unknown>[];
  }
  const one = async (sql: string, params: readonly unknown[]): Promise<Record<string, unknown> | undefined> => (await rows(sql, params))[0];
  // Token writes are group-committed (postgres-writer.ts): one statement per batch of inserts.
  const writer = createPostgresWriter((sql, params, prepared) =>
    prepared ? one(sql, params) : pool.query({ text: sql, values: params.map(pgParam) }));
  // Point reads of one shape asked for together: one statement per batch (READ_BATCHES).
  const pointReads = new WeakMap<PointRead, (value: string) => Promise<Record<string, unknown>>>();
  function find(point: PointRead, value: string): Promise<Record<string, unknown> | undefined> {
    let read = pointReads.get(point);
    if (!read) {
      const sql = pointBatchSql(point);
      read = batchReads<string, Record<string, unknown>>((values) => rows(sql, [values]), READ_BATCHES);
      pointReads.set(point, read);
    }
    return read(value).then(({ tessera_found: found, ...row }) => (found === null || found === undefined ? undefined : row));
  }
  return {
    one,
    rows,
    find,
    shared: coalesceReads(one),
    async write(sql, params) {
      await writer.write(sql, params);
      return true;
    },
    async close() {
      await writer.close();
      await pool.end();
    },
  };
}

export function createFastReads(databaseUrl: string, kind: DatabaseKind, pool: PoolOptions, options: FastReadsOptions = { journal: 'wal' }): FastReads {
  return kind === 'postgresql' ? postgresReads(databaseUrl, pool) : sqliteReads(databaseUrl, pool, options);
}
