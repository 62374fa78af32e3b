// Prisma's schema engine (migrations, schema diffs) compiled to WebAssembly, driven through a
// Prisma driver adapter. The native `prisma migrate` engine cannot be downloaded on our machines
// (see /work/shared/ENVIRONMENT.md, "Prisma 7 without network access").
//
// The package's default entry (`@prisma/schema-engine-wasm`) imports the `.wasm` file as an ES
// module, which Node rejects; so we load the wasm-bindgen glue (`schema_engine_bg.js`) and
// instantiate the `.wasm` beside it ourselves, once per process.
import type { Dirent } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';

import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type {
  DiffTarget,
  MigrationDirectory,
  MigrationList,
  SchemaEngine,
  SchemaFilter,
} from '@prisma/schema-engine-wasm/schema_engine_bg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';

/** Where a diff starts: nothing, a Prisma schema, or the live database behind the adapter. */
export type DiffFrom = 'empty' | 'database' | { schemaText: string };
/** Where a diff ends: a Prisma schema. */
export type DiffTo = { schemaText: string };

export interface SchemaEngineHandle {
  /**
   * The SQL script that turns `from` into `to`; `''` when there is nothing to change.
   * `'database'` means the database the adapter factory connects to, as it is now.
   */
  diffSql(from: DiffFrom, to: DiffTo): Promise<string>;
  /**
   * Applies the not-yet-applied migrations of a `prisma/migrations`-style folder
   * (`<timestamp>_<name>/migration.sql` + `migration_lock.toml`), recording them in
   * `_prisma_migrations` like `prisma migrate deploy`. Returns the names applied, in order.
   * A missing folder counts as no migrations.
   */
  applyMigrations(migrationsDir: string): Promise<string[]>;
  /** Releases the engine (and with it its database connection). Idempotent. */
  close(): Promise<void>;
}

export interface OpenSchemaEngineOptions {
  /** Path of the Prisma schema; its text is loaded as the engine's datamodel. */
  schemaPath: string;
  /** Must also implement `connectToShadowDb` (the SQLite and PostgreSQL adapters do). */
  adapterFactory: SqlDriverAdapterFactory;
}

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
const LOCKFILE = 'migration_lock.toml';
const MIGRATION_FILE = 'migration.sql';

// --- loading the wasm module, once per process -------------------------------------------------

// Node provides WebAssembly at runtime, but our tsconfig's libs (ES2023, no DOM) declare no types
// for it: describe the little we use rather than widen the project's libs.
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: Record<string, object>) => { exports: WasmExports };
}
interface WasmExports {
  __wbindgen_start(): void;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

// Keyed by the glue module's namespace object and kept on globalThis, so that test runners which
// re-evaluate our own module (vitest isolates test files) still initialise a given copy of the glue
// exactly once, and a freshly evaluated copy of the glue still gets initialised.
const INIT_KEY = Symbol.for('tessera.schemaEngineWasm.initialised');
type InitRegistry = WeakMap<object, Promise<void>>;

function initRegistry(): InitRegistry {
  const holder = globalThis as typeof globalThis & { [INIT_KEY]?: InitRegistry };
  holder[INIT_KEY] ??= new WeakMap();
  return holder[INIT_KEY];
}

/**
 * The engine arms timers (e.g. a 10 s one after talking to PostgreSQL) that it never clears;
 * they would keep a finished `tessera` command alive. Its timers are only timeouts for its own
 * work, so they may be unref'd: the glue's setTimeout import is wrapped to do that.
 */
function withUnrefTimers(glue: typeof bg): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...glue };
  for (const [name, fn] of Object.entries(glue)) {
    if (name.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
      imports[name] = (...args: unknown[]): unknown => {
        const timer = (fn as (...a: unknown[]) => unknown)(...args);
        (timer as { unref?: () => void } | undefined)?.unref?.();
        return timer;
      };
    }
  }
  return imports;
}

function loadWasm(): Promise<void> {
  const registry = initRegistry();
  let done = registry.get(bg);
  if (done === undefined) {
    done = (async () => {
      const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
      const bytes = await readFile(join(dirname(gluePath), 'schema_engine_bg.wasm'));
      const module = await wasmApi.compile(bytes);
      // The glue's functions are the wasm module's imports, under the glue's file name.
      const instance = new wasmApi.Instance(module, { './schema_engine_bg.js': withUnrefTimers(bg) });
      bg.__wbg_set_wasm(instance.exports);
      instance.exports.__wbindgen_start();
    })();
    registry.set(bg, done);
    done.catch(() => registry.delete(bg));
  }
  return done;
}

// --- the engine ---------------------------------------------------------------------------------

/** Engine errors arrive as strings or Errors carrying a Rust backtrace; normalise to Error. */
function engineError(operation: string, error: unknown): Error {
  const text = error instanceof Error ? error.message : String(error);
  return new Error(`schema engine ${operation} failed: ${text}`, { cause: error });
}

function isMigrationAware(factory: SqlDriverAdapterFactory): factory is SqlMigrationAwareDriverAdapterFactory {
  return typeof (factory as Partial<SqlMigrationAwareDriverAdapterFactory>).connectToShadowDb === 'function';
}

// better-sqlite3 objects (Database, Statement) that must never be garbage-collected; see below.
const pinnedSqliteObjects: object[] = [];

/**
 * better-sqlite3 12 built against Node 24's headers crashes the process ("Assertion failed:
 * (env) != nullptr" in RemoveEnvironmentCleanupHook, from Statement::~Statement) when V8 collects
 * one of its objects during a garbage collection that wasm code triggered: there is no current JS
 * context there, and node::ObjectWrap's destructor needs one. The schema engine prepares hundreds of
 * throwaway statements (one per query) while wasm runs, so that happens reliably (e.g. diffing a
 * migrated database). We therefore keep every Database and Statement of the engine's connections
 * reachable for the life of the process. The cost is a few hundred small finalised wrappers per
 * engine, and only the engine's own connections are affected. `client` is the better-sqlite3
 * Database inside @prisma/adapter-better-sqlite3's adapter; other adapters (pg) have nothing to pin.
 */
function pinSqliteObjects(adapter: SqlDriverAdapter): void {
  const client = (adapter as { client?: { prepare?: unknown } }).client;
  if (client === undefined || client === null || typeof client.prepare !== 'function') return;
  const prepare = client.prepare as (this: unknown, ...args: unknown[]) => unknown;
  pinnedSqliteObjects.push(client);
  client.prepare = function pinnedPrepare(this: unknown, ...args: unknown[]): unknown {
    const statement = prepare.apply(this, args);
    if (typeof statement === 'object' && statement !== null) pinnedSqliteObjects.push(statement);
    return statement;
  };
}

/**
 * Wraps the adapter factory to remember every connection the engine opens: `SchemaEngine.free()`
 * does not close them, and the SQLite adapter's connection holds `locking_mode=EXCLUSIVE`, which
 * would lock every other connection (e.g. the application's Prisma client) out of the file.
 */
function trackConnections(factory: SqlMigrationAwareDriverAdapterFactory): {
  factory: SqlMigrationAwareDriverAdapterFactory;
  disposeAll(): Promise<void>;
} {
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    pinSqliteObjects(adapter);
    open.add(adapter);
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      if (!open.delete(adapter)) return;
      await dispose();
    };
    return adapter;
  };
  return {
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => track(await factory.connect()),
      connectToShadowDb: async () => track(await factory.connectToShadowDb()),
    },
    async disposeAll() {
      const errors: unknown[] = [];
      for (const adapter of [...open]) {
        await adapter.dispose().catch((error: unknown) => errors.push(error));
      }
      if (errors.length > 0) throw new AggregateError(errors, 'closing the schema engine\'s connections failed');
    },
  };
}

/** Reads a `prisma/migrations` folder into the structure the engine expects (as Prisma's CLI does). */
export async function readMigrationsList(migrationsDir: string): Promise<MigrationList> {
  const baseDir = resolve(migrationsDir);
  const lockContent = await readFile(join(baseDir, LOCKFILE), 'utf8').catch(() => null);
  let entries: Dirent[];
  try {
    entries = await readdir(baseDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    entries = [];
  }
  const migrationDirectories: MigrationDirectory[] = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort((a, b) => a.localeCompare(b))
      .map(async (name): Promise<MigrationDirectory> => {
        const content = await readFile(join(baseDir, name, MIGRATION_FILE), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        );
        return { path: name, migrationFile: { path: MIGRATION_FILE, content } };
      }),
  );
  return {
    baseDir,
    lockfile: { path: LOCKFILE, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

export async function openSchemaEngine(options: OpenSchemaEngineOptions): Promise<SchemaEngineHandle> {
  if (!isMigrationAware(options.adapterFactory)) {
    throw new Error('the adapter factory cannot connect to a shadow database, so it cannot run migrations');
  }
  const connections = trackConnections(options.adapterFactory);
  await loadWasm();

  const schemaPath = resolve(options.schemaPath);
  const schemaText = await readFile(schemaPath, 'utf8');
  const schemaFileName = basename(schemaPath);

  // The engine logs JSON lines through this callback. Keep the last few for error reports.
  const recentLogs: string[] = [];
  const onLog = (line: string): void => {
    recentLogs.push(String(line).trim());
    if (recentLogs.length > 20) recentLogs.shift();
  };

  let engine: SchemaEngine;
  try {
    engine = await bg.SchemaEngine.new(
      { datamodels: [[schemaFileName, schemaText]] },
      onLog,
      bindMigrationAwareSqlAdapterFactory(connections.factory),
    );
  } catch (error) {
    await connections.disposeAll().catch(() => {});
    throw engineError('start', error);
  }
  let closed = false;
  const live = (): SchemaEngine => {
    if (closed) throw new Error('schema engine is closed');
    return engine;
  };

  const datamodel = (text: string): DiffTarget => ({
    tag: 'schemaDatamodel',
    files: [{ path: schemaFileName, content: text }],
  });
  const diffTarget = (target: DiffFrom): DiffTarget => {
    if (target === 'empty') return { tag: 'empty' };
    // `schemaDatasource` reads the database the engine's adapter connects to
    // (the `url` target is rejected by the wasm engine).
    if (target === 'database') {
      return {
        tag: 'schemaDatasource',
        files: [{ path: schemaFileName, content: schemaText }],
        configDir: dirname(schemaPath),
      };
    }
    return datamodel(target.schemaText);
  };

  return {
    async diffSql(from, to) {
      let result;
      try {
        // exitCode: true makes the engine report 2 for a non-empty diff and 0 for an empty one
        // (whose script is just the comment "-- This is an empty migration.").
        result = await live().diff({
          from: diffTarget(from),
          to: datamodel(to.schemaText),
          script: true,
          exitCode: true,
          filters: NO_FILTERS,
        });
      } catch (error) {
        throw engineError('diff', error);
      }
      return result.exitCode === 2 ? (result.stdout ?? '') : '';
    },

    async applyMigrations(migrationsDir) {
      const migrationsList = await readMigrationsList(migrationsDir);
      try {
        const output = await live().applyMigrations({ migrationsList, filters: NO_FILTERS });
        return output.appliedMigrationNames;
      } catch (error) {
        const err = engineError('applyMigrations', error);
        if (recentLogs.length > 0) err.message += `\nrecent engine log:\n${recentLogs.join('\n')}`;
        throw err;
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        engine.free();
      } finally {
        await connections.disposeAll();
      }
    },
  };
}
