import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSqlite } from '../../src/db/fast-reads.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createSqliteWriter, type WriterStatement } from '../../src/db/sqlite-writer.js';

// SQLite only (vitest.config.ts leaves this file out of the PostgreSQL pass).
describe('the SQLite writer thread', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-writer-'));
    file = join(dir, 'w.db');
    await migrateDatabase({ databaseUrl: `file:${file}` });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const insert = (id: string): WriterStatement => ({ text: 'INSERT INTO "OidcGrant" ("id", "payload", "createdAt") VALUES (?, ?, ?)', values: [id, '{}', Date.now()] });

  it('answers false (the caller falls back to Prisma) when the lock stays taken past the busy timeout', async () => {
    const writer = createSqliteWriter(file, 50);
    const holder = openSqlite(file, { timeout: 0, fileMustExist: true });
    try {
      holder.prepare('BEGIN IMMEDIATE').run();
      // The lock is held until the writer has answered, however long its thread takes to start.
      await expect(writer.write(insert('while-locked'))).resolves.toBe(false);
      holder.prepare('ROLLBACK').run();
      await expect(writer.write(insert('after-unlock'))).resolves.toBe(true);
    } finally {
      holder.close();
      await writer.close();
    }
  });

  it('acknowledges nothing it could not sync to the disk', async () => {
    const walDir = mkdtempSync(join(tmpdir(), 'tessera-writer-sync-'));
    const walFile = join(walDir, 's.db');
    await migrateDatabase({ databaseUrl: `file:${walFile}` });
    const keeper = openSqlite(walFile, { timeout: 1000, fileMustExist: true });
    keeper.pragma('journal_mode = WAL');
    const writer = createSqliteWriter(walFile, 1000);
    try {
      await expect(writer.write(insert('synced'))).resolves.toBe(true);
      // The commit lands in the WAL; without the file there is nothing to sync, and no answer of true.
      rmSync(`${walFile}-wal`);
      await expect(writer.write(insert('unsyncable'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await writer.close();
      keeper.close();
      rmSync(walDir, { recursive: true, force: true });
    }
  });

  it('settles every write of a batch after its commit, rejects a failing one alone, and refuses writes once closed', async () => {
    const writer = createSqliteWriter(file, 1000);
    const results = await Promise.allSettled([insert('w-1'), insert('w-2'), insert('w-1'), insert('w-3')].map((w) => writer.write(w)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((results[2] as PromiseRejectedResult).reason as { code?: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
    const reader = openSqlite(file, { timeout: 1000, fileMustExist: true });
    try {
      expect(reader.prepare('SELECT count(*) AS n FROM "OidcGrant" WHERE id LIKE \'w-%\'').get()).toEqual({ n: 3 });
    } finally {
      reader.close();
    }
    await writer.close();
    await expect(writer.write(insert('w-4'))).rejects.toThrow(/closed/);
  });
});
