import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, type Db } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createLogger } from '../../src/log.js';
import { createPushWorker } from '../../src/ssf/push-worker.js';
import { loadSetKey } from '../../src/ssf/set-key.js';
import { createSetSigner, type SetSigner } from '../../src/ssf/sets.js';
import { createPostgresDatabase, testDatabaseKind } from '../support/database.js';
import { startReceiver, type CallbackReceiver } from '../support/receiver.js';

const ISSUER = 'https://issuer.example';
const noWakeups = { onChange: () => () => undefined };

describe('SSF push worker on a real database', () => {
  let dir: string;
  let databaseUrl: string;
  let drop: (() => Promise<void>) | undefined;
  let dbs: Db[];
  let signer: SetSigner;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-push-'));
    databaseUrl = `file:${join(dir, 't.db')}`;
    if (testDatabaseKind === 'postgresql') ({ url: databaseUrl, drop } = await createPostgresDatabase());
    await migrateDatabase({ databaseUrl });
    // Two clients on one database: two instances of Tessera.
    dbs = [createDb(databaseUrl), createDb(databaseUrl)];
    signer = createSetSigner({ issuer: ISSUER, key: await loadSetKey(dbs[0]!) });
    receiver = await startReceiver();
    receiver.answer(() => ({ status: 202 }));
  });
  afterAll(async () => {
    await Promise.all(dbs.map((db) => db.$disconnect()));
    await receiver.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A push stream and `count` session-revoked entries queued for it. */
  async function queue(streamId: string, count: number, validUntil: Date): Promise<string[]> {
    const db = dbs[0]!;
    await db.ssfStream.create({
      data: { id: streamId, clientId: 'rx', eventMask: 1, deliveryMethod: 'push', pushEndpoint: `${receiver.url}/${streamId}`, pushAuthorization: 'Bearer x', inactivityTimeout: 3600 },
    });
    const at = new Date(Date.now() - 1000);
    const jtis: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const entry = await db.revocationEvent.create({
        data: { txn: `t-${streamId}-${i}`, at, kind: 'session', eventType: 1, accountId: `u${i}`, clientId: 'web', sid: `sid-${i}`, initiator: 'user', reason: 'test', validUntil },
      });
      const jti = `${entry.seq}.rx`;
      jtis.push(jti);
      await db.ssfDelivery.create({ data: { streamId, jti, seq: entry.seq, nextAttemptAt: at, createdAt: at } });
    }
    return jtis;
  }

  const worker = (db: Db) => createPushWorker({ db, signer, allowPrivate: true, log: createLogger({ level: 'silent' }), wakeups: noWakeups });

  it('two instances draining one queue at once send each SET exactly once', async () => {
    const jtis = await queue('shared', 150, new Date(Date.now() + 600_000));
    const workers = dbs.map(worker);
    // Rounds on both instances at the same time, until the queue is empty.
    while ((await dbs[0]!.ssfDelivery.count({ where: { streamId: 'shared' } })) > 0) {
      await Promise.all([...workers, ...workers].map((w) => w.runOnce()));
    }
    const sent = receiver.at('/shared').map((r) => decodeJwt(r.body).jti);
    expect(sent).toHaveLength(150);
    expect(new Set(sent)).toEqual(new Set(jtis));
  });

  it('an entry past its validUntil is dropped unsent; a paused stream holds its SETs', async () => {
    await queue('expired', 3, new Date(Date.now() - 1));
    await queue('paused', 2, new Date(Date.now() + 600_000));
    await dbs[0]!.ssfStream.update({ where: { id: 'paused' }, data: { status: 'paused' } });
    const w = worker(dbs[0]!);
    await w.runOnce();
    expect(await dbs[0]!.ssfDelivery.count({ where: { streamId: 'expired' } })).toBe(0);
    expect(receiver.at('/expired')).toHaveLength(0);
    expect(await dbs[0]!.ssfDelivery.count({ where: { streamId: 'paused' } })).toBe(2);
    expect(receiver.at('/paused')).toHaveLength(0);

    await dbs[0]!.ssfStream.update({ where: { id: 'paused' }, data: { status: 'enabled' } });
    await w.runOnce();
    expect(receiver.at('/paused')).toHaveLength(2);
    expect(await dbs[0]!.ssfDelivery.count({ where: { streamId: 'paused' } })).toBe(0);
  });

  it('start() delivers on its own and stop() waits for the round in flight', async () => {
    await queue('loop', 5, new Date(Date.now() + 600_000));
    const w = worker(dbs[1]!);
    w.start();
    await expect.poll(() => receiver.at('/loop').length, { timeout: 5000, interval: 20 }).toBe(5);
    await w.stop();
    expect(await dbs[1]!.ssfDelivery.count({ where: { streamId: 'loop' } })).toBe(0);
  });
});
