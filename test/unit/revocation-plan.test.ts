import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAudit } from '../../src/audit/audit.js';
import { createTokenStats } from '../../src/audit/token-stats.js';
import { createAdapterFactory } from '../../src/db/client.js';
import { openSqlite, type SqliteDatabase } from '../../src/db/fast-reads.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { PrismaClient } from '../../src/generated/sqlite/client.js';
import { createRevocationLog } from '../../src/revocation/revocation-log.js';
import { createRevoker } from '../../src/revocation/revoker.js';

// SQLite only (vitest.config.ts). The grantId, sessionUid and accountId indexes of the token
// tables leave out rows without a value (partial indexes: a client_credentials token has none of
// the three, and writing three index entries for NULL cost a quarter of its insert). A partial
// index serves only queries whose WHERE clause implies its own, so this checks the statements
// the revocation path really sends: each reads every table it touches through an index.
describe('revocation query plans (SQLite)', () => {
  let dir: string;
  let plans: SqliteDatabase;
  let db: PrismaClient;
  const queries: { query: string; params: unknown[] }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-revoke-plan-'));
    const url = `file:${join(dir, 'r.db')}`;
    await migrateDatabase({ databaseUrl: url });
    plans = openSqlite(join(dir, 'r.db'), { timeout: 1000, fileMustExist: true });
    db = new PrismaClient({ adapter: createAdapterFactory(url), log: [{ level: 'query', emit: 'event' }] });
    const events = db as unknown as { $on(event: 'query', listener: (e: { query: string; params: string }) => void): void };
    events.$on('query', (e) => queries.push({ query: e.query, params: JSON.parse(e.params) as unknown[] }));
  });
  afterAll(async () => {
    await db?.$disconnect();
    plans?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const planOf = (sql: string, params: unknown[]): string[] =>
    (plans.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);

  /** The statements of one revocation that filter on one of the partially indexed columns. */
  async function statementsOf(run: () => Promise<unknown>, column: 'grantId' | 'sessionUid' | 'accountId') {
    queries.length = 0;
    await run();
    return queries.filter((q) => q.query.includes(`\`${column}\``) || q.query.includes(`"${column}"`)).filter((q) => /\bWHERE\b/.test(q.query));
  }

  const cause = { action: 'test.revoke', actor: { type: 'system' as const, label: 'plan test' } };
  const revoker = () => createRevoker(db as never, {
    audit: createAudit(db as never, (err) => { throw err; }),
    stats: createTokenStats(db as never, { flushIntervalMs: 60_000, onError: (err) => { throw err; } }),
    log: createRevocationLog({ kind: 'sqlite', longestTokenLifetimeSeconds: async () => 300 }),
  });

  it.each([
    ['grantId', (r: ReturnType<typeof revoker>) => r.revokeGrants(['g-1', 'g-2'], cause)],
    ['grantId', (r: ReturnType<typeof revoker>) => r.revokeGrants(['g-1'], cause)],
    ['sessionUid', (r: ReturnType<typeof revoker>) => r.revokeSession('s-1', ['g-3'], cause)],
    ['accountId', (r: ReturnType<typeof revoker>) => r.revokeAccount('a-1', cause)],
  ] as const)('filters on %s through the partial indexes, never by a scan', async (column, run) => {
    const statements = await statementsOf(() => run(revoker()), column);
    expect(statements.length).toBeGreaterThan(5);
    for (const { query, params } of statements) {
      const reads = planOf(query, params).filter((d) => /^(SEARCH|SCAN) /.test(d));
      expect(reads.length, query).toBeGreaterThan(0);
      for (const d of reads) expect(d, query).toMatch(/^SEARCH \S+ USING (COVERING )?INDEX/);
    }
  });

  it('a query that does not imply the index condition is not served by it (the check can fail)', () => {
    const details = planOf('SELECT "id" FROM "OidcAccessToken" WHERE "grantId" IS NULL', []);
    expect(details.some((d) => d.startsWith('SCAN'))).toBe(true);
  });
});
