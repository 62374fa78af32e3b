// Applies prisma/migrations to a database, like `prisma migrate deploy`, using the wasm schema
// engine (src/db/schema-engine.ts). Idempotent: already-applied migrations are skipped.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createAdapterFactory } from './client.js';
import { openSchemaEngine } from './schema-engine.js';

// This file runs as src/db/migrate.ts (vitest, tsx) and as dist/db/migrate.js (built):
// both are two levels below the package root.
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export const defaultMigrationsDir = join(packageRoot, 'prisma', 'migrations');
export const defaultSchemaPath = join(packageRoot, 'prisma', 'schema.prisma');

export interface MigrateOptions {
  databaseUrl: string;
  /** Defaults to `<package root>/prisma/migrations`. */
  migrationsDir?: string;
  /** Defaults to `<package root>/prisma/schema.prisma`. */
  schemaPath?: string;
}

/** Applies every migration not yet recorded in the database's `_prisma_migrations` table. */
export async function migrateDatabase(options: MigrateOptions): Promise<{ applied: string[] }> {
  const engine = await openSchemaEngine({
    schemaPath: options.schemaPath ?? defaultSchemaPath,
    adapterFactory: createAdapterFactory(options.databaseUrl),
  });
  try {
    const applied = await engine.applyMigrations(options.migrationsDir ?? defaultMigrationsDir);
    return { applied };
  } finally {
    await engine.close();
  }
}
