// Applies prisma/migrations to a database, like `prisma migrate deploy`, using the wasm schema
// engine (src/db/schema-engine.ts). Idempotent: already-applied migrations are skipped.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createAdapterFactory, databaseKind, type DatabaseKind } from './client.js';
import { openSchemaEngine } from './schema-engine.js';

// This file runs as src/db/migrate.ts (vitest, tsx) and as dist/db/migrate.js (built):
// both are two levels below the package root.
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

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

/** Applies every migration not yet recorded in the database's `_prisma_migrations` table. */
export async function migrateDatabase(options: MigrateOptions): Promise<{ applied: string[] }> {
  const paths = migrationPaths(databaseKind(options.databaseUrl));
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
