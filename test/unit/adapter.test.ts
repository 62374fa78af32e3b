import { describe, expect, it } from 'vitest';

import { createAdapterClass, fromRow, toRow } from '../../src/oidc/adapter.js';
import type { ModelRow } from '../../src/oidc/model-tables.js';
import { hashIdentifier, openWith } from '../../src/hash.js';
import type { Db } from '../../src/db/client.js';

/** An in-memory stand-in for one Prisma model delegate (the subset the adapter uses). */
function memoryTable() {
  const rows = new Map<string, ModelRow>();
  const matches = (row: ModelRow, where: Record<string, unknown>) =>
    Object.entries(where).every(([k, v]) => (row as unknown as Record<string, unknown>)[k] === v);
  return {
    rows,
    async findUnique({ where }: { where: Record<string, unknown> }) {
      return [...rows.values()].find((r) => matches(r, where)) ?? null;
    },
    async upsert({ where, create, update }: { where: { id: string }; create: ModelRow; update: Omit<ModelRow, 'id'> }) {
      const existing = rows.get(where.id);
      rows.set(where.id, existing ? { ...existing, ...update } : { ...create });
    },
    async updateMany({ where, data }: { where: Record<string, unknown>; data: Partial<ModelRow> }) {
      let count = 0;
      for (const [k, r] of rows) if (matches(r, where)) { rows.set(k, { ...r, ...data }); count += 1; }
      return { count };
    },
    async deleteMany({ where }: { where: Record<string, unknown> }) {
      let count = 0;
      for (const [k, r] of rows) if (matches(r, where)) { rows.delete(k); count += 1; }
      return { count };
    },
    async findMany() {
      return [...rows.values()];
    },
  };
}

function fakeDb() {
  const tables = {
    oidcAccessToken: memoryTable(),
    oidcDeviceCode: memoryTable(),
    oidcInteraction: memoryTable(),
    oidcSession: memoryTable(),
  };
  return { db: tables as unknown as Db, tables };
}

describe('toRow', () => {
  it('stores SHA-256(id) as the key, never the id itself', () => {
    const id = 'opaque-access-token-value-1234567890';
    const row = toRow('AccessToken', id, { jti: id, kind: 'AccessToken', clientId: 'c1', accountId: 'u1', grantId: 'g1' }, 60);
    expect(row.id).toBe(hashIdentifier(id));
    expect(row.id).not.toBe(id);
    expect(JSON.stringify(row)).not.toContain(id);
  });

  it('drops jti from the stored payload and indexes grant, account and client', () => {
    const row = toRow('AccessToken', 'tok', { jti: 'tok', kind: 'AccessToken', clientId: 'c1', accountId: 'u1', grantId: 'g1', sessionUid: 's1' }, 60);
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    expect(payload).not.toHaveProperty('jti');
    expect(payload).toMatchObject({ kind: 'AccessToken', clientId: 'c1' });
    expect(row).toMatchObject({ grantId: 'g1', accountId: 'u1', clientId: 'c1', sessionUid: 's1', consumedAt: null });
  });

  it("strips the Interaction's copy of the session cookie but keeps the rest of the session", () => {
    const row = toRow('Interaction', 'uid-1', {
      jti: 'uid-1',
      kind: 'Interaction',
      session: { cookie: 'SESSION-COOKIE-VALUE', uid: 'sess-uid', accountId: 'u1', acr: 'urn:x' },
      params: { client_id: 'c1' },
    }, 3600);
    expect(row.payload).not.toContain('SESSION-COOKIE-VALUE');
    const payload = JSON.parse(row.payload) as { session: Record<string, unknown> };
    expect(payload.session).toEqual({ uid: 'sess-uid', accountId: 'u1', acr: 'urn:x' });
  });

  it('stores an Interaction without a session as is', () => {
    const row = toRow('Interaction', 'uid-2', { kind: 'Interaction' }, 60);
    expect(JSON.parse(row.payload)).toEqual({ kind: 'Interaction' });
  });

  it('sets grantId to the id for Grants and uid for Sessions', () => {
    expect(toRow('Grant', 'grant-1', { kind: 'Grant', accountId: 'u1', clientId: 'c1' }, 60).grantId).toBe('grant-1');
    const session = toRow('Session', 'cookie-id', { jti: 'cookie-id', kind: 'Session', uid: 'sess-uid', accountId: 'u1' }, 60);
    expect(session.uid).toBe('sess-uid');
    expect(session.sessionUid).toBe('sess-uid');
    expect(session.id).toBe(hashIdentifier('cookie-id'));
    expect(session.payload).not.toContain('cookie-id');
  });

  it('turns expiresIn into expiresAt, or no expiry without it', () => {
    const before = Date.now();
    const row = toRow('AccessToken', 'x', { kind: 'AccessToken' }, 120);
    const after = Date.now();
    expect(row.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 120_000);
    expect(row.expiresAt!.getTime()).toBeLessThanOrEqual(after + 120_000);
    expect(toRow('AccessToken', 'x', { kind: 'AccessToken' }, undefined).expiresAt).toBeNull();
  });
});

describe('fromRow', () => {
  const base = (over: Partial<ModelRow> = {}): ModelRow => ({
    id: hashIdentifier('tok'),
    payload: JSON.stringify({ kind: 'AccessToken', clientId: 'c1' }),
    grantId: null,
    sessionUid: null,
    accountId: null,
    clientId: 'c1',
    expiresAt: null,
    consumedAt: null,
    ...over,
  });

  it('returns undefined for no row', () => {
    expect(fromRow(null, 'tok')).toBeUndefined();
  });

  it('restores jti from the id it was looked up by', () => {
    expect(fromRow(base(), 'tok')).toEqual({ kind: 'AccessToken', clientId: 'c1', jti: 'tok' });
    expect(fromRow(base(), undefined)).toEqual({ kind: 'AccessToken', clientId: 'c1' });
  });

  it('honours expiry: undefined at and after expiresAt, the payload before', () => {
    const now = 1_800_000_000_000;
    const row = base({ expiresAt: new Date(now) });
    expect(fromRow(row, 'tok', now - 1)).toMatchObject({ jti: 'tok' });
    expect(fromRow(row, 'tok', now)).toBeUndefined();
    expect(fromRow(row, 'tok', now + 1)).toBeUndefined();
    // Real clock: an already expired row is gone.
    expect(fromRow(base({ expiresAt: new Date(Date.now() - 1000) }), 'tok')).toBeUndefined();
  });

  it('restores consumed (seconds) from consumedAt', () => {
    const consumedAt = new Date(1_800_000_000_999);
    expect(fromRow(base({ consumedAt }), 'tok')).toMatchObject({ consumed: 1_800_000_000 });
    expect(fromRow(base(), 'tok')).not.toHaveProperty('consumed');
  });

  it('round-trips a toRow payload (minus what is deliberately not stored)', () => {
    const payload = { jti: 'tok', kind: 'RefreshToken', clientId: 'c1', accountId: 'u1', grantId: 'g1', scope: 'openid', exp: 123 };
    expect(fromRow(toRow('RefreshToken', 'tok', payload, 60), 'tok')).toEqual(payload);
  });
});

describe('DeviceCode user codes', () => {
  const deviceCode = 'DEVICE-CODE-ID-abcdefghijklmnop';
  const userCode = 'WDJB-MJHT';
  const payload = { jti: deviceCode, kind: 'DeviceCode', userCode, clientId: 'tv', params: { scope: 'openid' } };

  it('stores the user code only as a hash and the device code only sealed under the user code', () => {
    const row = toRow('DeviceCode', deviceCode, payload, 600);
    expect(row.userCode).toBe(hashIdentifier(userCode));
    expect(row.payload).not.toContain(userCode);
    expect(row.payload).not.toContain(deviceCode);
    const stored = JSON.parse(row.payload) as Record<string, unknown>;
    expect(stored).not.toHaveProperty('userCode');
    expect(stored.sealedJti).toBeTypeOf('string');
    expect(openWith(userCode, stored.sealedJti as string)).toBe(deviceCode);
    expect(openWith('WDJB-MJHX', stored.sealedJti as string)).toBeNull();
  });

  it('find by device code does not leak sealedJti', () => {
    const row = toRow('DeviceCode', deviceCode, payload, 600);
    const found = fromRow(row, deviceCode)!;
    expect(found).not.toHaveProperty('sealedJti');
    expect(found.jti).toBe(deviceCode);
  });

  it('findByUserCode recovers the device code with the right user code only', async () => {
    const { db, tables } = fakeDb();
    const Adapter = createAdapterClass(db, async () => undefined);
    const adapter = new Adapter('DeviceCode');
    await adapter.upsert(deviceCode, payload, 600);

    await expect(adapter.findByUserCode(userCode)).resolves.toEqual({ ...payload });
    await expect(adapter.findByUserCode('WDJB-MJHX')).resolves.toBeUndefined();
    await expect(adapter.findByUserCode('')).resolves.toBeUndefined();

    // A row whose sealed device code was altered is not returned.
    const [key, row] = [...tables.oidcDeviceCode.rows][0]!;
    const stored = JSON.parse(row.payload) as Record<string, unknown>;
    const sealed = Buffer.from(stored.sealedJti as string, 'base64url');
    sealed[sealed.length - 1]! ^= 1;
    tables.oidcDeviceCode.rows.set(key, { ...row, payload: JSON.stringify({ ...stored, sealedJti: sealed.toString('base64url') }) });
    await expect(adapter.findByUserCode(userCode)).resolves.toBeUndefined();
  });
});

describe('adapter class on a table', () => {
  it('upsert/find/consume/destroy/revokeByGrantId by hashed id', async () => {
    const { db, tables } = fakeDb();
    const Adapter = createAdapterClass(db, async () => undefined);
    const adapter = new Adapter('AccessToken');
    await adapter.upsert('tok-1', { jti: 'tok-1', kind: 'AccessToken', clientId: 'c1', grantId: 'g1' }, 60);
    await adapter.upsert('tok-2', { jti: 'tok-2', kind: 'AccessToken', clientId: 'c1', grantId: 'g2' }, 60);
    expect([...tables.oidcAccessToken.rows.keys()].sort()).toEqual([hashIdentifier('tok-1'), hashIdentifier('tok-2')].sort());

    await expect(adapter.find('tok-1')).resolves.toMatchObject({ jti: 'tok-1', grantId: 'g1' });
    await expect(adapter.find('nope')).resolves.toBeUndefined();

    await adapter.consume('tok-1');
    expect((await adapter.find('tok-1'))!.consumed).toBeTypeOf('number');

    await adapter.revokeByGrantId('g1');
    await expect(adapter.find('tok-1')).resolves.toBeUndefined();
    await expect(adapter.find('tok-2')).resolves.toBeDefined();

    await adapter.destroy('tok-2');
    await expect(adapter.find('tok-2')).resolves.toBeUndefined();
  });

  it('Client lookups go to the metadata loader, not a table', async () => {
    const { db } = fakeDb();
    const Adapter = createAdapterClass(db, async (id) => (id === 'c1' ? { client_id: 'c1' } : undefined));
    const adapter = new Adapter('Client');
    await expect(adapter.find('c1')).resolves.toEqual({ client_id: 'c1' });
    await expect(adapter.find('c2')).resolves.toBeUndefined();
    await expect(adapter.upsert('c1', {}, 1)).rejects.toThrow(/read-only/);
  });
});
