import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSqlite, type SqliteDatabase } from '../../src/db/fast-reads.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { sqliteLookupSql } from '../../src/revocation/token-lookup.js';

const LOOKUP_SQL = sqliteLookupSql();

// SQLite only (vitest.config.ts): the plans SQLite chooses for introspection's one statement.
describe('token lookup query plans (SQLite)', () => {
  let dir: string;
  let db: SqliteDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-plan-'));
    await migrateDatabase({ databaseUrl: `file:${join(dir, 'p.db')}` });
    db = openSqlite(join(dir, 'p.db'), { timeout: 1000, fileMustExist: true });
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (sql: string): string[] => {
    const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\$(\d+)/g, '?$1')}`) as unknown as { all(params: unknown): { detail: string }[] };
    return statement.all({ 1: 'x', 2: 'y' }).map((row) => row.detail);
  };

  it.each(Object.entries(LOOKUP_SQL))('%s reads every table by an index, never by a scan', (_name, sql) => {
    const details = plan(sql);
    // Every step that reads a table (the derived rows "caller" and "t" and the constant row aside).
    const tables = details.filter((d) => /^(SEARCH|SCAN) /.test(d) && !/^SCAN (CONSTANT ROW|caller|t)\b/.test(d));
    expect(tables.length).toBeGreaterThan(0);
    for (const d of tables) expect(d).toMatch(/^SEARCH \S+ USING (COVERING )?INDEX/);
  });

  it('with the caller, the token row is read first and then joined (a flattened JWT lookup ran four times slower)', () => {
    for (const sql of [LOOKUP_SQL.opaqueWithCaller, LOOKUP_SQL.jwtWithCaller]) {
      expect(plan(sql)).toContain('MATERIALIZE t');
    }
  });
});
