import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

import { PrismaClient as PostgresClient } from '../generated/postgresql/client.js';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.js';

/**
 * The database client. Both generated clients come from one data model
 * (prisma/schema.prisma; the PostgreSQL schema is derived from it), so they expose the same
 * API; the SQLite client's type stands for both.
 */
export type Db = SqliteClient;

export type DatabaseKind = 'sqlite' | 'postgresql';

export interface PoolOptions {
  /** Maximum connections per instance (PostgreSQL). */
  readonly poolSize: number;
  /** Seconds to wait for a new connection before failing. */
  readonly connectTimeoutSeconds: number;
  /** Seconds a statement may run before the server cancels it (PostgreSQL). */
  readonly statementTimeoutSeconds: number;
}

export const DEFAULT_POOL: PoolOptions = { poolSize: 10, connectTimeoutSeconds: 5, statementTimeoutSeconds: 10 };

/** Which database a DATABASE_URL names. Throws for anything else. */
export function databaseKind(databaseUrl: string): DatabaseKind {
  if (databaseUrl.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return 'postgresql';
  throw new Error(`unsupported DATABASE_URL scheme: ${databaseUrl.split(':')[0] ?? ''}`);
}

/** Absolute path of the SQLite file named by a `file:` URL (relative to the working directory). */
export function sqliteFilePath(databaseUrl: string): string {
  const path = databaseUrl.slice('file:'.length).split('?')[0] ?? '';
  if (path === '') throw new Error('DATABASE_URL names no file');
  return resolve(path);
}

/** A Prisma driver adapter factory for the database; creates the SQLite file's folder. */
export function createAdapterFactory(databaseUrl: string, pool: PoolOptions = DEFAULT_POOL): SqlMigrationAwareDriverAdapterFactory {
  if (databaseKind(databaseUrl) === 'postgresql') {
    return new PrismaPg({
      connectionString: databaseUrl,
      max: pool.poolSize,
      connectionTimeoutMillis: pool.connectTimeoutSeconds * 1000,
      statement_timeout: pool.statementTimeoutSeconds * 1000,
      idleTimeoutMillis: 30_000,
      // Idle pooled connections must not keep a finished CLI command (or migration) alive.
      allowExitOnIdle: true,
    });
  }
  const file = sqliteFilePath(databaseUrl);
  mkdirSync(dirname(file), { recursive: true });
  return new PrismaBetterSqlite3({ url: file, timeout: pool.connectTimeoutSeconds * 1000 }, { timestampFormat: 'unixepoch-ms' });
}

/**
 * SQLite: every commit of Prisma's connection is durable (synchronous=FULL; on a WAL database
 * better-sqlite3 would otherwise use NORMAL, which can lose the last commits to a power failure).
 * The setting is per connection, and Prisma's SQLite adapter keeps one.
 */
export async function makeCommitsDurable(db: Db, databaseUrl: string): Promise<void> {
  if (databaseKind(databaseUrl) === 'sqlite') await db.$executeRawUnsafe('PRAGMA synchronous = FULL');
}

export function createDb(databaseUrl: string, pool: PoolOptions = DEFAULT_POOL): Db {
  const adapter = createAdapterFactory(databaseUrl, pool);
  if (databaseKind(databaseUrl) === 'postgresql') {
    // Same models, same delegates: only the generated provider differs.
    return new PostgresClient({ adapter }) as unknown as Db;
  }
  return new SqliteClient({ adapter });
}
