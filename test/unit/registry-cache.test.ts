import { describe, expect, it } from 'vitest';

import { createRegistryCache } from '../../src/clients/registry-cache.js';

type Row = Record<string, unknown>;
const SQL = 'SELECT * FROM "Client" WHERE "clientId" = $1';

/** A fake database: rows by id, a revision, and a count of the reads that reached it. */
function fakeDb() {
  const db = {
    rows: new Map<string, Row>([['a', { clientId: 'a', disabled: false }]]),
    revision: 1 as number | undefined,
    revisionFails: false,
    reads: 0,
    read: async (_sql: string, params: readonly string[]): Promise<Row | undefined> => {
      db.reads += 1;
      const row = db.rows.get(params[0]!);
      return row ? { ...row } : undefined;
    },
    readRevision: async (): Promise<number | undefined> => {
      if (db.revisionFails) throw new Error('connection refused');
      return db.revision;
    },
  };
  return db;
}

// The timer never fires within a test (one minute): each test refreshes by hand.
function cacheOn(db: ReturnType<typeof fakeDb>, errors: unknown[] = [], maxEntries?: number) {
  return createRegistryCache({ read: (sql, params) => db.read(sql, params), revision: () => db.readRevision(), intervalMs: 60_000, onError: (e) => errors.push(e), ...(maxEntries ? { maxEntries } : {}) });
}

describe('the registry cache (client and API rows in memory)', () => {
  it('answers a row read before from memory, frozen, once the revision is known', async () => {
    const db = fakeDb();
    const cache = cacheOn(db);
    await cache.refresh();
    const first = await cache.read(SQL, ['a']);
    const second = await cache.read(SQL, ['a']);
    expect(second).toEqual({ clientId: 'a', disabled: false });
    expect(second).toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    expect(db.reads).toBe(1);
    cache.close();
  });

  it('drops every row when this process changes a client (changed)', async () => {
    const db = fakeDb();
    const cache = cacheOn(db);
    await cache.refresh();
    await cache.read(SQL, ['a']);
    db.rows.set('a', { clientId: 'a', disabled: true });
    cache.changed();
    expect(await cache.read(SQL, ['a'])).toEqual({ clientId: 'a', disabled: true });
    expect(db.reads).toBe(2);
    cache.close();
  });

  it('drops every row when the database revision moves (a change by another process), and only then', async () => {
    const db = fakeDb();
    const cache = cacheOn(db);
    await cache.refresh();
    await cache.read(SQL, ['a']);
    await cache.refresh(); // same revision: kept
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(1);
    db.rows.set('a', { clientId: 'a', disabled: true });
    db.revision = 2;
    // Until the next refresh the old row is still served: that is the bound the interval sets.
    expect(await cache.read(SQL, ['a'])).toEqual({ clientId: 'a', disabled: false });
    await cache.refresh();
    expect(await cache.read(SQL, ['a'])).toEqual({ clientId: 'a', disabled: true });
    expect(db.reads).toBe(2);
    cache.close();
  });

  it('does not keep a row whose read began before a drop (it may predate the change)', async () => {
    const db = fakeDb();
    const cache = cacheOn(db);
    await cache.refresh();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowRead = db.read;
    db.read = async (sql, params) => {
      const row = await slowRead(sql, params);
      await gate;
      return row;
    };
    const inFlight = cache.read(SQL, ['a']); // reads the old row, answers later
    db.rows.set('a', { clientId: 'a', disabled: true });
    cache.changed();
    release();
    expect(await inFlight).toEqual({ clientId: 'a', disabled: false });
    db.read = slowRead;
    expect(await cache.read(SQL, ['a'])).toEqual({ clientId: 'a', disabled: true });
    cache.close();
  });

  it('caches nothing until the revision is known, and nothing while it cannot be read (fails closed)', async () => {
    const db = fakeDb();
    db.revisionFails = true;
    const errors: unknown[] = [];
    const cache = cacheOn(db, errors);
    await cache.refresh();
    await cache.refresh();
    await cache.read(SQL, ['a']);
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(2);
    expect(errors).toHaveLength(1); // once per outage, not at every attempt
    db.revisionFails = false;
    await cache.refresh();
    await cache.read(SQL, ['a']);
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(3);
    // A failure after a success drops what was kept, and is reported again.
    db.revisionFails = true;
    await cache.refresh();
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(4);
    expect(errors).toHaveLength(2);
    cache.close();
  });

  it('treats a missing revision row as unknown', async () => {
    const db = fakeDb();
    db.revision = undefined;
    const errors: unknown[] = [];
    const cache = cacheOn(db, errors);
    await cache.refresh();
    await cache.read(SQL, ['a']);
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(2);
    expect(String(errors[0])).toMatch(/revision row is missing/);
    cache.close();
  });

  it('never caches an unknown id, and starts over beyond maxEntries', async () => {
    const db = fakeDb();
    for (const id of ['b', 'c']) db.rows.set(id, { clientId: id });
    const cache = cacheOn(db, [], 2);
    await cache.refresh();
    expect(await cache.read(SQL, ['nobody'])).toBeUndefined();
    expect(await cache.read(SQL, ['nobody'])).toBeUndefined();
    expect(db.reads).toBe(2);
    await cache.read(SQL, ['a']);
    await cache.read(SQL, ['b']);
    await cache.read(SQL, ['c']); // a third row: the two kept are dropped first
    await cache.read(SQL, ['c']);
    expect(db.reads).toBe(5);
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(6);
    cache.close();
  });

  it('with an interval of 0 reads the database every time', async () => {
    const db = fakeDb();
    const cache = createRegistryCache({ read: db.read, revision: db.readRevision, intervalMs: 0 });
    await cache.refresh();
    await cache.read(SQL, ['a']);
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(2);
    cache.close();
  });

  it('after close, reads go to the database, even when a refresh was under way', async () => {
    const db = fakeDb();
    const cache = cacheOn(db);
    await cache.refresh();
    await cache.read(SQL, ['a']);
    const late = cache.refresh();
    cache.close();
    await late;
    await cache.read(SQL, ['a']);
    await cache.read(SQL, ['a']);
    expect(db.reads).toBe(3);
  });
});
