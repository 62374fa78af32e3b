import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrateDatabase } from '../../src/db/migrate.js';
import { createPostgresWriter, insertShape, mergeBatch } from '../../src/db/postgres-writer.js';
import { createPostgresDatabase } from '../support/database.js';

const INSERT = 'INSERT INTO "JwtAccessToken" ("id", "clientId", "expiresWithSession", "expiresAt", "createdAt") VALUES ($1, $2, $3, $4, $5)';
const UPSERT = 'INSERT INTO "OidcAccessToken" ("id", "payload", "clientId", "createdAt") VALUES ($1, $2, $3, $4) ON CONFLICT ("id") DO UPDATE SET "payload" = excluded."payload", "clientId" = excluded."clientId"';
const DELETE = 'DELETE FROM "JwtAccessToken" WHERE id = $1';

describe('merging a batch of writes into statements', () => {
  it('recognizes single-row inserts with placeholders in order, and nothing else', () => {
    expect(insertShape(INSERT)).toMatchObject({ width: 5, tail: '' });
    expect(insertShape(UPSERT)).toMatchObject({ width: 4, tail: expect.stringMatching(/^ ON CONFLICT/) });
    expect(insertShape(DELETE)).toBeNull();
    expect(insertShape('INSERT INTO "T" ("a", "b") VALUES ($2, $1)')).toBeNull();
    expect(insertShape('INSERT INTO "T" ("a") VALUES ($1) ON CONFLICT ("a") DO UPDATE SET "a" = $2')).toBeNull();
    expect(insertShape('INSERT INTO "T" ("a") SELECT $1')).toBeNull();
  });

  it('merges consecutive inserts of one text, keeps the order, and leaves other writes alone', () => {
    const w = (sql: string, ...params: unknown[]) => ({ sql, params });
    const merged = mergeBatch([w(INSERT, 1, 'c', false, 'e', 'f'), w(INSERT, 2, 'c', false, 'e', 'f'), w(DELETE, 1), w(INSERT, 3, 'c', true, 'e', 'f'), w(UPSERT, 4, 'p', 'c', 'd')]);
    expect(merged.map((m) => m.count)).toEqual([2, 1, 1, 1]);
    expect(merged[0]!.sql).toBe('INSERT INTO "JwtAccessToken" ("id", "clientId", "expiresWithSession", "expiresAt", "createdAt") VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)');
    expect(merged[0]!.params).toEqual([1, 'c', false, 'e', 'f', 2, 'c', false, 'e', 'f']);
    expect(merged[1]).toEqual({ sql: DELETE, params: [1], count: 1, prepared: true });
    expect(merged[3]!.sql).toBe(UPSERT);
  });

  it('prepares merged inserts of up to 64 rows (the same text for the same row count), not larger ones', () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ sql: INSERT, params: [i, 'c', false, 'e', 'f'] }));
    const [two] = mergeBatch(rows(2));
    const [twoAgain] = mergeBatch(rows(2));
    expect(two).toMatchObject({ count: 2, prepared: true });
    expect(twoAgain!.sql).toBe(two!.sql);
    expect(mergeBatch(rows(64))[0]).toMatchObject({ count: 64, prepared: true });
    expect(mergeBatch(rows(65))[0]).toMatchObject({ count: 65, prepared: false });
    expect(mergeBatch(rows(65))[0]!.sql).toMatch(/\(\$321, \$322, \$323, \$324, \$325\)$/);
  });
});

describe('group commit on PostgreSQL', () => {
  let url: string;
  let drop: () => Promise<void>;
  let pool: pg.Pool;
  const statements: string[] = [];

  beforeAll(async () => {
    ({ url, drop } = await createPostgresDatabase());
    await migrateDatabase({ databaseUrl: url });
    pool = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  const writer = () =>
    createPostgresWriter(async (sql, params) => {
      statements.push(sql);
      return pool.query(sql, params as unknown[]);
    });
  const row = (id: string) => [id, 'group-client', false, new Date(Date.now() + 60_000), new Date()];
  const count = async (where: string, params: unknown[]) => Number((await pool.query(`SELECT count(*) AS n FROM "JwtAccessToken" WHERE ${where}`, params)).rows[0].n);

  it('fifty concurrent inserts commit in a couple of statements, and every caller is answered after its row is there', async () => {
    statements.length = 0;
    const w = writer();
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await w.write(INSERT, row(`many-${i}`));
        // Acknowledged means committed: visible to any other connection.
        expect(await count('id = $1', [`many-${i}`])).toBe(1);
      }),
    );
    expect(statements.length).toBeLessThanOrEqual(2);
    expect(await count(`id LIKE 'many-%'`, [])).toBe(50);
    await w.close();
  });

  it('writes apply in the order asked: an insert then its delete leaves nothing; a delete then an insert leaves the row', async () => {
    const w = writer();
    await Promise.all([w.write(INSERT, row('order-1')), w.write(DELETE, ['order-1']), w.write(DELETE, ['order-2']), w.write(INSERT, row('order-2'))]);
    expect(await count('id = $1', ['order-1'])).toBe(0);
    expect(await count('id = $1', ['order-2'])).toBe(1);
    await w.close();
  });

  it('two upserts of one id in one batch both succeed and the later wins (the merged statement cannot, so each runs alone)', async () => {
    const w = writer();
    await Promise.all([w.write(UPSERT, ['same', 'first', 'c', new Date()]), w.write(UPSERT, ['same', 'second', 'c', new Date()])]);
    expect((await pool.query('SELECT payload FROM "OidcAccessToken" WHERE id = $1', ['same'])).rows).toEqual([{ payload: 'second' }]);
    await w.close();
  });

  it('a closed writer refuses new writes after finishing the ones it has', async () => {
    const w = writer();
    const pending = w.write(INSERT, row('before-close'));
    await w.close();
    await expect(pending).resolves.toBeUndefined();
    await expect(w.write(INSERT, row('after-close'))).rejects.toThrow(/closed/);
    expect(await count('id = $1', ['after-close'])).toBe(0);
  });
});
