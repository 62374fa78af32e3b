import { createRequire } from 'node:module';

// better-sqlite3 ships no types; a read-only peek at the server's database is all tests need.
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

// Keep every Database and Statement reachable until the process ends (see test/unit/migrate.test.ts:
// better-sqlite3 objects collected during a wasm-triggered GC abort Node 24).
const keepAlive: object[] = [];

export interface StoredValue {
  table: string;
  /** Index of the row within its table (to pair columns of one row). */
  row: number;
  column: string;
  value: string;
}

/** Every text (and blob, as UTF-8) value of every row of every table, except Prisma's migration log. */
export function dumpTextValues(databaseUrl: string): StoredValue[] {
  const file = databaseUrl.replace(/^file:/, '');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  keepAlive.push(db);
  try {
    const tablesStmt = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'");
    keepAlive.push(tablesStmt);
    const out: StoredValue[] = [];
    for (const { name } of tablesStmt.all() as { name: string }[]) {
      const stmt = db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`);
      keepAlive.push(stmt);
      (stmt.all() as Record<string, unknown>[]).forEach((row, index) => {
        for (const [column, value] of Object.entries(row)) {
          if (typeof value === 'string') out.push({ table: name, row: index, column, value });
          else if (Buffer.isBuffer(value)) out.push({ table: name, row: index, column, value: value.toString('utf8') });
        }
      });
    }
    return out;
  } finally {
    db.close();
  }
}

/** Table names of the database (without sqlite_* and _prisma_migrations). */
export function tableNames(databaseUrl: string): string[] {
  const db = new Database(databaseUrl.replace(/^file:/, ''), { readonly: true, fileMustExist: true });
  keepAlive.push(db);
  try {
    const stmt = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'");
    keepAlive.push(stmt);
    return (stmt.all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
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
