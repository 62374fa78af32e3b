import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSqlite } from '../../src/db/fast-reads.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createSqliteWriter, WRITER_NICENESS, WriterAnswer, WriterMessage, type WriterStatement } from '../../src/db/sqlite-writer.js';

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

  // Linux only, as the niceness itself (elsewhere a niceness set with pid 0 is the process's).
  it.runIf(process.platform === 'linux')('runs below the event loop\'s priority, and only its own thread does', async () => {
    const writer = createSqliteWriter(file, 1000);
    try {
      await expect(writer.write(insert('niceness'))).resolves.toBe(true);
      // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's niceness (after the `(comm)`).
      const niceness = readdirSync('/proc/self/task').map((tid) => {
        try {
          return Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
        } catch {
          return undefined; // the thread ended meanwhile
        }
      });
      expect(niceness.filter((n) => n === WRITER_NICENESS)).toHaveLength(1);
      expect(getPriority()).toBe(0);
    } finally {
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

  it('reads on its own connection see every commit made before the call, its own and other connections\' alike, and nothing is cached', async () => {
    const writer = createSqliteWriter(file, 1000);
    const other = openSqlite(file, { timeout: 1000, fileMustExist: true });
    const byId = (id: string) => ({ text: 'SELECT id, payload FROM "OidcGrant" WHERE id = ?', values: [id] });
    try {
      await expect(writer.read(byId('r-1'))).resolves.toBeUndefined();
      await writer.write(insert('r-1'));
      await expect(writer.read(byId('r-1'))).resolves.toEqual({ id: 'r-1', payload: '{}' });
      // A change committed by another connection (Prisma, the CLI) is seen by the next read.
      other.prepare('UPDATE "OidcGrant" SET payload = ? WHERE id = ?').run('{"changed":true}', 'r-1');
      await expect(writer.read(byId('r-1'))).resolves.toEqual({ id: 'r-1', payload: '{"changed":true}' });
      other.prepare('DELETE FROM "OidcGrant" WHERE id = ?').run('r-1');
      // Reads asked for together go in one message: each gets its row, a failing one fails alone.
      const [gone, again, broken] = await Promise.allSettled([writer.read(byId('r-1')), writer.read(byId('r-1')), writer.read({ text: 'SELECT nope FROM "OidcGrant"', values: [] })]);
      expect(gone).toEqual({ status: 'fulfilled', value: undefined });
      expect(again).toEqual({ status: 'fulfilled', value: undefined });
      expect(broken.status).toBe('rejected');
      // A read asked for while a batch is in flight is answered, and sees what committed before it.
      const [written, read] = await Promise.all([writer.write(insert('r-2')), writer.read(byId('r-2'))]);
      expect(written).toBe(true);
      expect(read === undefined || read.id === 'r-2').toBe(true);
      await expect(writer.read(byId('r-2'))).resolves.toMatchObject({ id: 'r-2' });
    } finally {
      other.close();
      await writer.close();
    }
    await expect(writer.read(byId('r-2'))).rejects.toThrow(/closed/);
  });

  it('closing an idle writer waits for its thread to end, in a process with nothing else to keep it alive', async () => {
    // A child process: the test runner's own handles would keep this one alive regardless.
    const script = `
      import { createSqliteWriter } from ${JSON.stringify(new URL('../../src/db/sqlite-writer.ts', import.meta.url).href)};
      const writer = createSqliteWriter(${JSON.stringify(file)}, 1000);
      await writer.read({ text: 'SELECT 1 AS one', values: [] });
      await writer.close();
      console.log('closed');
    `;
    const { spawnSync } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const entry = join(dir, 'close-idle.mjs');
    writeFileSync(entry, script);
    const result = spawnSync(process.execPath, [entry], { encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).not.toMatch(/unsettled top-level await/);
    expect(result.stdout.trim()).toBe('closed');
    expect(result.status).toBe(0);
  });

  it('the thread uses the protocol numbers the event loop uses (the worker file repeats them)', () => {
    const source = readFileSync(new URL('../../src/db/sqlite-writer-worker.ts', import.meta.url), 'utf8');
    const constant = (name: string) => Number(new RegExp(`^const ${name} = (-?\\d+);$`, 'm').exec(source)?.[1]);
    expect({ DEFINE: constant('DEFINE'), WRITES: constant('WRITES'), READS: constant('READS'), COLUMNS: constant('COLUMNS') })
      .toEqual({ DEFINE: WriterMessage.DEFINE, WRITES: WriterMessage.WRITES, READS: WriterMessage.READS, COLUMNS: WriterMessage.COLUMNS });
    const answers = ['STATEMENT_FAILED', 'BATCH_FAILED', 'READS_ANSWERED', 'NO_ROW', 'ROW', 'READ_FAILED'] as const;
    expect(Object.fromEntries(answers.map((a) => [a, constant(a)]))).toEqual(Object.fromEntries(answers.map((a) => [a, WriterAnswer[a]])));
  });

  it('a statement that does not prepare fails each use alone, and the others of its batch still commit', async () => {
    const writer = createSqliteWriter(file, 1000);
    try {
      const results = await Promise.allSettled([writer.write(insert('p-1')), writer.write({ text: 'INSERT INTO "Nope" VALUES (?)', values: [1] }), writer.write(insert('p-2'))]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/no such table/);
      await expect(writer.write({ text: 'INSERT INTO "Nope" VALUES (?)', values: [2] })).rejects.toThrow(/no such table/);
      await expect(writer.read({ text: 'SELECT id, payload, "createdAt" FROM "OidcGrant" WHERE id = ?', values: ['p-2'] })).resolves.toMatchObject({ id: 'p-2', payload: '{}' });
    } finally {
      await writer.close();
    }
  });
});
