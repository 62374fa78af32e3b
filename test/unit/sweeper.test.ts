import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, type Db } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createSweeper } from '../../src/db/sweeper.js';
import { createLogger } from '../../src/log.js';
import { createPostgresDatabase, testDatabaseKind } from '../support/database.js';

describe('expired-row sweeper', () => {
  let dir: string;
  let db: Db;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sweep-'));
    let databaseUrl = `file:${join(dir, 't.db')}`;
    if (testDatabaseKind === 'postgresql') ({ url: databaseUrl, drop } = await createPostgresDatabase());
    await migrateDatabase({ databaseUrl });
    db = createDb(databaseUrl);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes every expired row in bounded batches and keeps live ones', async () => {
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 60_000);
    const rows = (n: number, expiresAt: Date, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, payload: '{}', expiresAt }));
    await db.oidcAccessToken.createMany({ data: [...rows(23, past, 'old'), ...rows(5, future, 'live')] });
    await db.oidcSession.createMany({ data: rows(7, past, 's') });
    await db.jwtAccessToken.createMany({
      data: Array.from({ length: 12 }, (_, i) => ({ id: `j${i}`, clientId: 'c', expiresAt: i < 10 ? past : future })),
    });

    const sweeper = createSweeper(db, { batchSize: 4, log: createLogger({ level: 'silent' }) });
    expect(await sweeper.sweepOnce()).toBe(23 + 7 + 10);
    expect(await db.oidcAccessToken.count()).toBe(5);
    expect(await db.oidcSession.count()).toBe(0);
    expect(await db.jwtAccessToken.count()).toBe(2);
    expect(await sweeper.sweepOnce()).toBe(0);
  });
});
