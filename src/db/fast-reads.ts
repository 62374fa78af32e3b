import { createRequire } from 'node:module';

import pg from 'pg';

import { sqliteFilePath, type DatabaseKind, type PoolOptions } from './client.js';

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
  /**
   * One single-statement write, committed before the promise settles, for the token paths. Answers
   * false when SQLite's write lock is held at that instant — by a Prisma transaction of this
   * process, which a synchronous wait would deadlock — and the caller then writes through
   * Prisma instead, which waits without blocking. Dates and booleans are converted per driver.
   */
  write(sql: string, params: readonly unknown[]): Promise<boolean>;
  close(): Promise<void>;
}

interface SqliteStatement {
  get(...params: unknown[]): unknown;
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
  // Writes use a connection of their own that never waits for the lock (busy timeout 0).
  let writer: SqliteDatabase | undefined;
  const statements = new Map<string, { stmt: SqliteStatement; order: number[] }>();
  const writes = new Map<string, { stmt: SqliteStatement; order: number[] }>();
  function prepared(on: SqliteDatabase, cache: typeof statements, sql: string) {
    let entry = cache.get(sql);
    if (!entry) {
      // `$n` placeholders become positional `?`, the values repeated in order of appearance.
      const order = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1);
      entry = { stmt: on.prepare(sql.replace(/\$\d+/g, '?')), order };
      cache.set(sql, entry);
    }
    return entry;
  }
  const sqliteValue = (v: unknown): unknown => (v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v);
  const isBusy = (err: unknown) => (err as { code?: string }).code?.startsWith('SQLITE_BUSY') === true;

  /**
   * Group commit: the writes asked for while the event loop handled one batch of I/O commit
   * together, in one transaction and one fsync, and each caller's promise settles only after
   * that commit. A statement that fails fails alone (SQLite keeps the transaction). When the
   * write lock is taken, every write of the batch answers false (the callers use Prisma).
   */
  let pending: { sql: string; params: readonly unknown[]; resolve: (ok: boolean) => void; reject: (err: unknown) => void }[] = [];
  function commitPending(): void {
    const batch = pending;
    pending = [];
    writer ??= openSqlite(sqliteFilePath(databaseUrl), { timeout: 0, fileMustExist: true });
    const control = (sql: string) => prepared(writer!, writes, sql).stmt.run();
    try {
      control('BEGIN IMMEDIATE');
    } catch (err) {
      for (const w of batch) (isBusy(err) ? w.resolve(false) : w.reject(err));
      return;
    }
    const failed = new Map<number, unknown>();
    batch.forEach((w, i) => {
      try {
        const entry = prepared(writer!, writes, w.sql);
        entry.stmt.run(...entry.order.map((n) => sqliteValue(w.params[n])));
      } catch (err) {
        failed.set(i, err);
      }
    });
    try {
      control('COMMIT');
    } catch (err) {
      try {
        control('ROLLBACK');
      } catch {
        // the transaction is already gone
      }
      for (const w of batch) (isBusy(err) ? w.resolve(false) : w.reject(err));
      return;
    }
    batch.forEach((w, i) => (failed.has(i) ? w.reject(failed.get(i)) : w.resolve(true)));
  }
  return {
    async one(sql, params) {
      const entry = prepared(db, statements, sql);
      return entry.stmt.get(...entry.order.map((i) => params[i])) as Record<string, unknown> | undefined;
    },
    write(sql, params) {
      return new Promise<boolean>((resolve, reject) => {
        pending.push({ sql, params, resolve, reject });
        if (pending.length === 1) setImmediate(commitPending);
      });
    },
    async close() {
      db.close();
      writer?.close();
    },
  };
}

function postgresReads(databaseUrl: string, options: PoolOptions): FastReads {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: Math.max(2, Math.ceil(options.poolSize / 2)),
    connectionTimeoutMillis: options.connectTimeoutSeconds * 1000,
    statement_timeout: options.statementTimeoutSeconds * 1000,
    allowExitOnIdle: true,
  });
  pool.on('error', () => undefined); // an idle connection dropped by the server is replaced on next use
  const names = new Map<string, string>();
  async function one(sql: string, params: readonly unknown[]): Promise<Record<string, unknown> | undefined> {
    let name = names.get(sql);
    if (!name) {
      name = `tessera_${names.size}`;
      names.set(sql, name);
    }
    const result = await pool.query({ name, text: sql, values: params as unknown[] });
    return result.rows[0] as Record<string, unknown> | undefined;
  }
  return {
    one,
    async write(sql, params) {
      await one(sql, params);
      return true;
    },
    async close() {
      await pool.end();
    },
  };
}

export function createFastReads(databaseUrl: string, kind: DatabaseKind, pool: PoolOptions, options: FastReadsOptions = { journal: 'wal' }): FastReads {
  return kind === 'postgresql' ? postgresReads(databaseUrl, pool) : sqliteReads(databaseUrl, pool, options);
}
