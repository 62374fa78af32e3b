import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, databaseKind, makeCommitsDurable, sqliteFilePath, type Db } from '../../src/db/client.js';
import { createFastReads, openSqlite, readDate, type FastReads } from '../../src/db/fast-reads.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { hashIdentifier } from '../../src/hash.js';
import { createAccounts } from '../../src/accounts/accounts.js';
import { createPasswordHasher } from '../../src/accounts/passwords.js';
import { createAdapterClass } from '../../src/oidc/adapter.js';
import { createJwtRecorder } from '../../src/oidc/jwt-access-tokens.js';
import { createPostgresDatabase, testDatabaseKind } from '../support/database.js';

const POOL = { poolSize: 2, connectTimeoutSeconds: 5, statementTimeoutSeconds: 10 };

describe('token writes outside Prisma (issuance path)', () => {
  let dir: string;
  let databaseUrl: string;
  let db: Db;
  let fast: FastReads;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-fast-'));
    databaseUrl = `file:${join(dir, 't.db')}`;
    if (testDatabaseKind === 'postgresql') ({ url: databaseUrl, drop } = await createPostgresDatabase());
    await migrateDatabase({ databaseUrl });
    db = createDb(databaseUrl);
    fast = createFastReads(databaseUrl, databaseKind(databaseUrl), POOL);
  });
  afterAll(async () => {
    await fast?.close();
    await db?.$disconnect();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every commit is durable: synchronous=FULL on each connection (better-sqlite3 defaults WAL databases to NORMAL)', async () => {
    await makeCommitsDurable(db, databaseUrl);
    if (testDatabaseKind === 'postgresql') {
      // PostgreSQL's own default: a commit returns after its WAL record is flushed.
      const [row] = (await db.$queryRawUnsafe('SHOW synchronous_commit')) as { synchronous_commit: string }[];
      expect(row!.synchronous_commit).toBe('on');
      return;
    }
    const prisma = (await db.$queryRawUnsafe('PRAGMA synchronous')) as { synchronous: bigint | number }[];
    expect(Number(prisma[0]!.synchronous)).toBe(2);
    const own = openSqlite(sqliteFilePath(databaseUrl), { timeout: 0, fileMustExist: true });
    try {
      expect(own.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(own.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      own.close();
    }
  });

  it('stores exactly what the Prisma path stores: same columns, same value types, and an upsert updates', async () => {
    const viaFast = new (createAdapterClass(db, async () => undefined, undefined, fast))('AccessToken');
    const viaPrisma = new (createAdapterClass(db, async () => undefined))('AccessToken');
    const payload = (jti: string) => ({ jti, kind: 'AccessToken', clientId: 'c1', grantId: 'g1', accountId: 'a1', sessionUid: 's1', exp: Math.floor(Date.now() / 1000) + 60 });
    await viaFast.upsert('fast-token', payload('fast-token'), 60);
    await viaPrisma.upsert('prisma-token', payload('prisma-token'), 60);
    const [a, b] = await Promise.all([
      db.oidcAccessToken.findUnique({ where: { id: hashIdentifier('fast-token') } }),
      db.oidcAccessToken.findUnique({ where: { id: hashIdentifier('prisma-token') } }),
    ]);
    expect(a).toMatchObject({ grantId: 'g1', accountId: 'a1', sessionUid: 's1', clientId: 'c1', consumedAt: null });
    expect(a!.expiresAt).toBeInstanceOf(Date);
    expect(a!.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(a!.expiresAt!.getTime() - b!.expiresAt!.getTime())).toBeLessThan(5_000);
    await expect(viaFast.find('fast-token')).resolves.toMatchObject({ jti: 'fast-token', grantId: 'g1' });

    await viaFast.upsert('fast-token', { ...payload('fast-token'), grantId: 'g2' }, 60);
    await expect(viaPrisma.find('fast-token')).resolves.toMatchObject({ grantId: 'g2' });
    expect(await db.oidcAccessToken.count({ where: { id: hashIdentifier('fast-token') } })).toBe(1);
  });

  it('find, findByUid, consume, destroy and revokeByGrantId through prepared statements agree with Prisma', async () => {
    const Fast = createAdapterClass(db, async () => undefined, undefined, fast);
    const tokens = new Fast('RefreshToken');
    const exp = Math.floor(Date.now() / 1000) + 60;
    await tokens.upsert('rt-1', { jti: 'rt-1', kind: 'RefreshToken', clientId: 'c1', grantId: 'grant-x', exp }, 60);
    await tokens.upsert('rt-2', { jti: 'rt-2', kind: 'RefreshToken', clientId: 'c1', grantId: 'grant-x', exp }, 60);
    await tokens.upsert('rt-3', { jti: 'rt-3', kind: 'RefreshToken', clientId: 'c1', grantId: 'grant-y', exp }, 60);
    await expect(tokens.find('rt-1')).resolves.toMatchObject({ jti: 'rt-1', grantId: 'grant-x', exp });
    await expect(tokens.find('missing')).resolves.toBeUndefined();

    await tokens.consume('rt-1');
    const consumed = await tokens.find('rt-1');
    expect(consumed?.consumed).toBeTypeOf('number');
    expect((await db.oidcRefreshToken.findUnique({ where: { id: hashIdentifier('rt-1') } }))!.consumedAt).toBeInstanceOf(Date);

    await tokens.revokeByGrantId('grant-x');
    await expect(tokens.find('rt-2')).resolves.toBeUndefined();
    await expect(tokens.find('rt-3')).resolves.toMatchObject({ jti: 'rt-3' });
    await tokens.destroy('rt-3');
    expect(await db.oidcRefreshToken.count({ where: { grantId: { in: ['grant-x', 'grant-y'] } } })).toBe(0);

    const sessions = new Fast('Session');
    await sessions.upsert('cookie-1', { jti: 'cookie-1', uid: 'uid-1', accountId: 'a1', exp }, 60);
    await expect(sessions.findByUid('uid-1')).resolves.toMatchObject({ uid: 'uid-1', accountId: 'a1' });
    // An expired row reads as nothing, on this path as on Prisma's.
    await sessions.upsert('cookie-2', { jti: 'cookie-2', uid: 'uid-2', accountId: 'a1', exp }, -1);
    await expect(sessions.findByUid('uid-2')).resolves.toBeUndefined();
  });

  it('writes asked for together commit together; a failing one fails alone and the others land', async () => {
    const insert = 'INSERT INTO "JwtAccessToken" ("id", "clientId", "expiresWithSession", "expiresAt", "createdAt") VALUES ($1, $2, $3, $4, $5)';
    const row = (id: string) => [id, 'batch-client', false, new Date(Date.now() + 60_000), new Date()];
    expect(await fast.write(insert, row('batch-dup'))).toBe(true);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => fast.write(insert, row(i === 7 ? 'batch-dup' : `batch-${i}`))));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[7]!.status).toBe('rejected');
    expect(await db.jwtAccessToken.count({ where: { clientId: 'batch-client' } })).toBe(20);
  });

  it('a grant whose revocation the logout handed to Tessera is left for the revoker, row by row untouched', async () => {
    const deferred: string[] = [];
    const hooks = { requestInfo: () => undefined, onIssued: () => undefined, takeOverGrantRevocation: async (id: string) => (deferred.push(id), id === 'handed-over') };
    const Adapter = createAdapterClass(db, async () => undefined, hooks, fast);
    const tokens = new Adapter('AccessToken');
    const exp = Math.floor(Date.now() / 1000) + 60;
    await tokens.upsert('at-handed', { jti: 'at-handed', kind: 'AccessToken', clientId: 'c1', grantId: 'handed-over', exp }, 60);
    await tokens.upsert('at-other', { jti: 'at-other', kind: 'AccessToken', clientId: 'c1', grantId: 'not-handed', exp }, 60);
    await new Adapter('Grant').upsert('handed-over', { jti: 'handed-over', kind: 'Grant', clientId: 'c1', accountId: 'a1', exp }, 60);
    await tokens.revokeByGrantId('handed-over');
    await new Adapter('Grant').destroy('handed-over');
    await tokens.revokeByGrantId('not-handed');
    await expect(tokens.find('at-handed')).resolves.toMatchObject({ grantId: 'handed-over' });
    await expect(new Adapter('Grant').find('handed-over')).resolves.toMatchObject({ clientId: 'c1' });
    await expect(tokens.find('at-other')).resolves.toBeUndefined();
    expect(deferred).toEqual(['handed-over', 'handed-over', 'not-handed']);
  });

  it('an account read by id through a prepared statement equals the one Prisma reads', async () => {
    const passwords = createPasswordHasher({ memoryKib: 8192, timeCost: 1, parallelism: 1, concurrency: 1 });
    const viaPrisma = createAccounts(db, passwords);
    const viaFast = createAccounts(db, passwords, fast);
    const created = await viaPrisma.create({ email: 'fast-read@example.com', password: 'fast read password', roles: ['admin'] });
    await viaPrisma.recordLogin(created.id);
    await viaPrisma.setDisabled(created.id, true);
    const [a, b] = [await viaFast.findById(created.id), await viaPrisma.findById(created.id)];
    expect(a).toEqual(b);
    expect(a).toMatchObject({ email: 'fast-read@example.com', disabled: true, roles: ['admin'] });
    expect(a!.lastLoginAt).toBeInstanceOf(Date);
    await expect(viaFast.findById('nobody')).resolves.toBeNull();
  });

  it('JWT access-token records written outside Prisma read back as Prisma writes them', async () => {
    const record = createJwtRecorder(db, () => undefined, fast);
    const exp = Math.floor(Date.now() / 1000) + 300;
    await record(undefined, { jti: 'jwt-1', kind: 'ClientCredentials', clientId: 'c1', expiresWithSession: false }, { payload: { exp } });
    const row = await db.jwtAccessToken.findUnique({ where: { id: hashIdentifier('jwt-1') } });
    expect(row).toMatchObject({ clientId: 'c1', expiresWithSession: false, revokedAt: null, grantId: null });
    expect(row!.expiresAt.getTime()).toBe(exp * 1000);
  });

  it('timestamps mean the same instant on both paths when the process runs in a timezone other than UTC', async () => {
    // Prisma keeps DateTime columns as UTC wall time. Written or read outside Prisma, a timestamp
    // must mean that same instant: in Tokyo (UTC+9) a local-time conversion moves it by 9 hours.
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      const expiresAt = new Date('2031-03-04T05:06:07.089Z');
      const insert = 'INSERT INTO "JwtAccessToken" ("id", "clientId", "expiresWithSession", "expiresAt", "createdAt") VALUES ($1, $2, $3, $4, $5)';
      expect(await fast.write(insert, ['tz-fast', 'tz-client', false, expiresAt, new Date()])).toBe(true);
      await db.jwtAccessToken.create({ data: { id: 'tz-prisma', clientId: 'tz-client', expiresAt } });
      const select = 'SELECT "expiresAt" FROM "JwtAccessToken" WHERE id = $1';
      for (const id of ['tz-fast', 'tz-prisma']) {
        expect((await db.jwtAccessToken.findUnique({ where: { id } }))!.expiresAt.toISOString(), `${id} read by Prisma`).toBe(expiresAt.toISOString());
        expect(readDate((await fast.one(select, [id]))!.expiresAt)!.toISOString(), `${id} read outside Prisma`).toBe(expiresAt.toISOString());
      }
      // A comparison in SQL against a parameter sees the same instant too.
      const later = 'SELECT count(*) AS n FROM "JwtAccessToken" WHERE "clientId" = $1 AND "expiresAt" > $2';
      expect(Number((await fast.one(later, ['tz-client', new Date(expiresAt.getTime() - 1000)]))!.n)).toBe(2);
      expect(Number((await fast.one(later, ['tz-client', new Date(expiresAt.getTime() + 1000)]))!.n)).toBe(0);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('a write while a Prisma transaction holds the lock waits for it off the event loop, then lands', async () => {
    let landed: boolean | undefined;
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const insert = 'INSERT INTO "OidcGrant" ("id", "payload", "createdAt") VALUES ($1, $2, $3)';
    try {
      await db.$transaction(async (tx) => {
        await tx.oidcGrant.create({ data: { id: 'lock-holder', payload: '{}' } });
        // On SQLite the transaction holds the file's one write lock: the write waits for it in the
        // writer thread while this thread goes on (the timer keeps ticking, the transaction commits).
        // PostgreSQL locks rows, and this row is free.
        void fast.write(insert, ['written-during-lock', '{}', new Date()]).then((ok) => (landed = ok));
        await new Promise((r) => setTimeout(r, 100));
        if (testDatabaseKind === 'sqlite') expect(landed).toBeUndefined();
      }, { timeout: 10_000 });
      await expect.poll(() => landed, { timeout: 10_000 }).toBe(true);
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(ticker);
    }
    expect(await db.oidcGrant.count({ where: { id: { in: ['lock-holder', 'written-during-lock'] } } })).toBe(2);
  });

  it('point reads asked for together (one statement on PostgreSQL) each get their own row, or none', async () => {
    const point = { table: 'OidcGrant', columns: 'id, payload, "grantId"', key: 'id' };
    const ids = Array.from({ length: 30 }, (_, i) => `point-${i}`);
    await db.oidcGrant.createMany({ data: ids.filter((_, i) => i % 3 !== 0).map((id) => ({ id, payload: JSON.stringify({ n: id }), grantId: `g-${id}` })) });
    const asked = [...ids, ...ids.slice().reverse(), 'no-such-grant'];
    const rows = await Promise.all(asked.map((id) => fast.find(point, id)));
    asked.forEach((id, i) => {
      const n = ids.indexOf(id);
      if (n < 0 || n % 3 === 0) expect(rows[i], id).toBeUndefined();
      else expect(rows[i], id).toEqual({ id, payload: JSON.stringify({ n: id }), grantId: `g-${id}` });
    });
  });
});
