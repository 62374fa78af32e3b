import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createAudit } from '../../src/audit/audit.js';
import { createTokenStats } from '../../src/audit/token-stats.js';
import { createDb, type Db } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { pruneRevocationLog } from '../../src/revocation/prune-log.js';
import { createRevocationLog, EVENT_BITS } from '../../src/revocation/revocation-log.js';
import { createRevoker, type Revoker } from '../../src/revocation/revoker.js';
import { createStreams } from '../../src/ssf/streams.js';

/** What the revoker appends to the log for each kind of revocation (SQLite, a real database). */
describe('the revocation log, as the revoker writes it', () => {
  let dir: string;
  let db: Db;
  let revoker: Revoker;
  const committed: string[] = [];
  const cause = { action: 'test', actor: { type: 'admin' as const, id: 'admin-1' }, reason: 'because' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-revlog-'));
    const url = `file:${join(dir, 'r.db')}`;
    await migrateDatabase({ databaseUrl: url });
    db = createDb(url);
    const log = createRevocationLog({ kind: 'sqlite', longestTokenLifetimeSeconds: async () => 300 });
    log.onCommitted((txn) => committed.push(txn));
    revoker = createRevoker(db, {
      audit: createAudit(db, (err) => { throw err; }),
      stats: createTokenStats(db, { flushIntervalMs: 60_000, onError: (err) => { throw err; } }),
      log,
    });
  });
  afterAll(async () => {
    await db?.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await db.backchannelDelivery.deleteMany();
    await db.ssfDelivery.deleteMany();
    await db.ssfStream.deleteMany();
    await db.revocationEvent.deleteMany();
    await db.oidcSession.deleteMany();
    await db.oidcGrant.deleteMany();
  });

  const entries = () => db.revocationEvent.findMany({ orderBy: { seq: 'asc' } });
  const session = (uid: string, accountId: string, clients: Record<string, { grantId: string; sid: string }>) =>
    db.oidcSession.create({ data: { id: `id-${uid}`, uid, accountId, payload: JSON.stringify({ uid, accountId, authorizations: clients }) } });
  const grant = (grantId: string, accountId: string, clientId: string) =>
    db.oidcGrant.create({ data: { id: `h-${grantId}`, grantId, accountId, clientId, payload: '{}' } });
  const stream = (id: string, clientId: string, mask: number, status = 'enabled') =>
    db.ssfStream.create({ data: { id, clientId, eventMask: mask, deliveryMethod: 'poll', inactivityTimeout: 60, status } });

  it('a session: one session-revoked entry per client, by its sid, each with a back-channel delivery', async () => {
    await session('s1', 'alice', { spa: { grantId: 'g1', sid: 'sid-spa' }, admin: { grantId: 'g2', sid: 'sid-admin' } });
    await revoker.revokeSession('s1', ['g1', 'g2'], cause);
    const rows = await entries();
    expect(rows.map((r) => [r.kind, r.clientId, r.sid, r.accountId, r.eventType, r.backchannel])).toEqual([
      ['session', 'spa', 'sid-spa', 'alice', EVENT_BITS.sessionRevoked, true],
      ['session', 'admin', 'sid-admin', 'alice', EVENT_BITS.sessionRevoked, true],
    ]);
    expect(new Set(rows.map((r) => r.txn)).size).toBe(1);
    expect(rows[0]!.initiator).toBe('admin');
    expect(rows[0]!.validUntil.getTime() - rows[0]!.at.getTime()).toBe(360_000);
    expect(await db.backchannelDelivery.count()).toBe(2);
    expect(committed.at(-1)).toBe(rows[0]!.txn);
  });

  it('an account: one subject entry announced, per-session entries for back-channel only; a password change adds credential-change', async () => {
    await session('s2', 'bob', { spa: { grantId: 'g3', sid: 'sid-b1' } });
    await session('s3', 'bob', { spa: { grantId: 'g4', sid: 'sid-b2' } });
    await revoker.revokeAccount('bob', cause, { credentialChanged: true });
    const rows = await entries();
    expect(rows.filter((r) => r.eventType !== 0).map((r) => [r.kind, r.accountId, r.eventType])).toEqual([
      ['subject', 'bob', EVENT_BITS.sessionRevoked],
      ['credential', 'bob', EVENT_BITS.credentialChange],
    ]);
    expect(rows.filter((r) => r.backchannel).map((r) => r.sid).sort()).toEqual(['sid-b1', 'sid-b2']);
  });

  it('a grant: by its sid when a session names it, else by account and client', async () => {
    await session('s4', 'carol', { spa: { grantId: 'g5', sid: 'sid-c' } });
    await grant('g5', 'carol', 'spa');
    await grant('g6', 'carol', 'batch');
    await revoker.revokeGrants(['g5', 'g6'], cause);
    expect((await entries()).map((r) => [r.kind, r.clientId, r.sid, r.accountId, r.backchannel])).toEqual([
      ['session', 'spa', 'sid-c', 'carol', true],
      ['grant', 'batch', null, 'carol', false],
    ]);
  });

  it('a client, one JWT (kept until its exp plus skew), an opaque token (recorded, never announced)', async () => {
    await revoker.revokeClient('spa', cause);
    const exp = Math.floor(Date.now() / 1000) + 120;
    await revoker.revokeJwtAccessToken({ jti: 'jti-1', clientId: 'spa', sub: 'dave', exp }, cause);
    await revoker.revokeJwtAccessToken({ jti: 'jti-old', clientId: 'spa', sub: 'dave', exp: exp - 3600 }, cause);
    await revoker.revokeOpaqueToken('an-opaque-token-value', cause);
    const rows = await entries();
    expect(rows.map((r) => [r.kind, r.clientId, r.jti, r.eventType])).toEqual([
      ['client', 'spa', null, EVENT_BITS.sessionRevoked],
      ['token', 'spa', 'jti-1', EVENT_BITS.tokenRevoked],
      ['opaque', null, null, 0],
    ]);
    expect(rows[1]!.validUntil.getTime()).toBe((exp + 60) * 1000);
    // The log never holds the token itself.
    expect(JSON.stringify(rows)).not.toContain('an-opaque-token-value');
  });

  it('fans out to the streams that asked for the event type and are not disabled, one SET jti per receiver', async () => {
    await stream('st-1', 'api', EVENT_BITS.sessionRevoked);
    await stream('st-2', 'api', EVENT_BITS.sessionRevoked | EVENT_BITS.tokenRevoked);
    await stream('st-3', 'other', EVENT_BITS.tokenRevoked);
    await stream('st-4', 'off', EVENT_BITS.sessionRevoked, 'disabled');
    await stream('st-5', 'held', EVENT_BITS.sessionRevoked, 'paused');
    await revoker.revokeClient('spa', cause);
    const [entry] = await entries();
    const deliveries = await db.ssfDelivery.findMany({ orderBy: { streamId: 'asc' } });
    expect(deliveries.map((d) => [d.streamId, d.jti, d.seq])).toEqual([
      ['st-1', `${entry!.seq}.api`, entry!.seq],
      ['st-2', `${entry!.seq}.api`, entry!.seq],
      ['st-5', `${entry!.seq}.held`, entry!.seq],
    ]);
  });

  it('a stream nobody used for longer than its inactivity timeout is removed, with what waited for it', async () => {
    const streams = createStreams(db, {
      kind: 'sqlite',
      log: createRevocationLog({ kind: 'sqlite', longestTokenLifetimeSeconds: async () => 300 }),
      options: { issuer: 'https://issuer.example', inactivityTimeoutSeconds: 60, maxStreamsPerReceiver: 10, checkPushEndpoint: () => null },
    });
    const idle = await streams.create('api', {});
    const busy = await streams.create('api', {});
    await revoker.revokeClient('spa', cause);
    expect(await db.ssfDelivery.count()).toBe(2);
    const later = new Date(Date.now() + 61_000);
    await db.ssfStream.update({ where: { id: busy.id }, data: { lastActiveAt: later } });
    expect(await streams.removeInactive(later)).toBe(1);
    expect((await db.ssfStream.findMany()).map((row) => row.id)).toEqual([busy.id]);
    expect((await db.ssfDelivery.findMany()).map((row) => row.streamId)).toEqual([busy.id]);
    expect(idle.id).not.toBe(busy.id);
  });

  it('the sweeper prunes entries past validUntil with what was still queued for them', async () => {
    await stream('st-6', 'api', EVENT_BITS.sessionRevoked);
    await session('s5', 'erin', { spa: { grantId: 'g7', sid: 'sid-e' } });
    await revoker.revokeSession('s5', ['g7'], cause);
    expect(await pruneRevocationLog(db, { batchSize: 10, now: new Date() })).toBe(0);
    expect(await pruneRevocationLog(db, { batchSize: 10, now: new Date(Date.now() + 361_000) })).toBe(1);
    expect(await db.revocationEvent.count()).toBe(0);
    expect(await db.ssfDelivery.count()).toBe(0);
    expect(await db.backchannelDelivery.count()).toBe(0);
  });
});
