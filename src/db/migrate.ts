// Applies prisma/migrations to a database, like `prisma migrate deploy`, using the wasm schema
// engine (src/db/schema-engine.ts). Idempotent: already-applied migrations are skipped.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { createAdapterFactory, databaseKind, DEFAULT_POOL, type DatabaseKind } from './client.js';
import { createFastReads, type FastReads } from './fast-reads.js';
import { packageRoot } from '../paths.js';
import { openSchemaEngine } from './schema-engine.js';


export const defaultMigrationsDir = join(packageRoot, 'prisma', 'migrations');
export const defaultSchemaPath = join(packageRoot, 'prisma', 'schema.prisma');

/** Each database kind has its own migration history, generated from the one data model. */
export function migrationPaths(kind: DatabaseKind): { migrationsDir: string; schemaPath: string } {
  const base = kind === 'postgresql' ? join(packageRoot, 'prisma', 'postgresql') : join(packageRoot, 'prisma');
  return { migrationsDir: join(base, 'migrations'), schemaPath: join(base, 'schema.prisma') };
}

export interface MigrateOptions {
  databaseUrl: string;
  /** Defaults to the database kind's folder: prisma/migrations or prisma/postgresql/migrations. */
  migrationsDir?: string;
  /** Defaults to `<package root>/prisma/schema.prisma`. */
  schemaPath?: string;
}

/** Names of migration folders, oldest first. */
async function migrationNames(migrationsDir: string): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/**
 * True when every migration is already recorded as applied. Checked with one plain read first,
 * so that commands run against a live database (the CLI next to a running server) never start
 * the schema engine, which takes an exclusive lock on SQLite.
 */
async function upToDate(databaseUrl: string, migrationsDir: string): Promise<boolean> {
  const names = await migrationNames(migrationsDir);
  let reads: FastReads | undefined;
  try {
    reads = createFastReads(databaseUrl, databaseKind(databaseUrl), { ...DEFAULT_POOL, poolSize: 2 }, { journal: 'keep' });
    const row = await reads.one(
      'SELECT count(*) AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND migration_name IN (' +
        names.map((_, i) => `$${i + 1}`).join(', ') + ')',
      names,
    );
    return names.length > 0 && Number(row?.n) === names.length;
  } catch {
    return false; // no migration table yet, or the file does not exist: let the engine decide
  } finally {
    await reads?.close();
  }
}

/** Applies every migration not yet recorded in the database's `_prisma_migrations` table. */
export async function migrateDatabase(options: MigrateOptions): Promise<{ applied: string[] }> {
  const paths = migrationPaths(databaseKind(options.databaseUrl));
  if (await upToDate(options.databaseUrl, options.migrationsDir ?? paths.migrationsDir)) return { applied: [] };
  const engine = await openSchemaEngine({
    schemaPath: options.schemaPath ?? paths.schemaPath,
    adapterFactory: createAdapterFactory(options.databaseUrl),
  });
  try {
    const applied = await engine.applyMigrations(options.migrationsDir ?? paths.migrationsDir);
    return { applied };
  } finally {
    await engine.close();
  }
}
