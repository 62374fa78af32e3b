import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

export type DatabaseKind = 'sqlite' | 'postgresql';

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
export function createAdapterFactory(databaseUrl: string): SqlDriverAdapterFactory {
  const kind = databaseKind(databaseUrl);
  if (kind === 'postgresql') {
    throw new Error('PostgreSQL support is not available in this build; use a file: DATABASE_URL');
  }
  const file = sqliteFilePath(databaseUrl);
  mkdirSync(dirname(file), { recursive: true });
  return new PrismaBetterSqlite3({ url: file }, { timestampFormat: 'unixepoch-ms' });
}

export function createDb(databaseUrl: string): Db {
  return new PrismaClient({ adapter: createAdapterFactory(databaseUrl) });
}
