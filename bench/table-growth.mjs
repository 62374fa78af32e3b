// Housekeeping at scale: table and index size after one million issued access tokens, and what
// sweeping the expired half costs (total time, and the longest single delete batch — the longest
// time a sweep holds row locks). `node bench/table-growth.mjs` after `npm run build`.
// TOKENS (default 1000000), BATCH (sweep batch size, default 500), BENCH_DATABASES.
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';

import { createDb } from '../dist/db/client.js';
import { migrateDatabase } from '../dist/db/migrate.js';
import { createSweeper } from '../dist/db/sweeper.js';
import { createLogger } from '../dist/log.js';
import { freshDatabase } from './lib/processes.mjs';

const total = Number(process.env.TOKENS ?? 1_000_000);
const batchSize = Number(process.env.BATCH ?? 500);
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgresql').split(',');
// A payload shaped like a real opaque access token row (jti stripped, as Tessera stores it).
const payload = JSON.stringify({
  iat: 1795256273, exp: 1795256573, accountId: '6a1f0a4e-2f7e-4c59-9d55-6d1b2a3c4d5e', clientId: 'cob4_BdWYcwLvi0OT5nxbA',
  grantId: 'Zq3cL0x9S8y7T6u5V4w3X2y1Z0aBcDeFgHiJkLmNoPq', gty: 'authorization_code', kind: 'AccessToken',
  scope: 'openid email', sessionUid: 'k2Lm3Nn4Oo5Pp6Qq7Rr8S', expiresWithSession: true, sid: 'a1B2c3D4e5F6g7H8i9J0k',
});

const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function sizes(kind, db, url) {
  if (kind === 'postgresql') {
    const [r] = await db.$queryRawUnsafe(`SELECT pg_relation_size('"OidcAccessToken"') AS t, pg_indexes_size('"OidcAccessToken"') AS i`);
    return { tableMiB: mib(Number(r.t)), indexesMiB: mib(Number(r.i)) };
  }
  const file = url.slice('file:'.length);
  return { databaseFileMiB: mib(statSync(file).size) };
}

for (const kind of databases) {
  const database = await freshDatabase(kind);
  if (!database) {
    console.log(`${kind}: not reachable, skipped`);
    continue;
  }
  try {
    await migrateDatabase({ databaseUrl: database.url });
    const db = createDb(database.url, { poolSize: 4, connectTimeoutSeconds: 5, statementTimeoutSeconds: 600 });
    const now = Date.now();
    const started = performance.now();
    const chunk = 5000;
    for (let i = 0; i < total; i += chunk) {
      const rows = [];
      for (let j = i; j < Math.min(total, i + chunk); j += 1) {
        rows.push({
          id: createHash('sha256').update(randomBytes(32)).digest('base64url'),
          payload,
          grantId: `g${j % 200000}`,
          sessionUid: `s${j % 100000}`,
          accountId: `a${j % 10000}`,
          clientId: 'cob4_BdWYcwLvi0OT5nxbA',
          // Half of the tokens expired a minute ago; the other half outlive the whole run.
          expiresAt: new Date(j % 2 === 0 ? now - 60_000 : now + 86_400_000),
        });
      }
      await db.oidcAccessToken.createMany({ data: rows });
    }
    const insertSeconds = (performance.now() - started) / 1000;
    const before = await sizes(kind, db, database.url);

    const lookups = await db.oidcAccessToken.findMany({ select: { id: true }, take: 1000, skip: Math.floor(total / 2) });
    const l0 = performance.now();
    for (const { id } of lookups) await db.oidcAccessToken.findUnique({ where: { id } });
    const lookupMicros = Math.round(((performance.now() - l0) / lookups.length) * 1000);

    let longestBatchMs = 0;
    let batches = 0;
    const sweeper = createSweeper(db, {
      batchSize,
      log: createLogger({ level: 'silent' }),
      maxRounds: Number.MAX_SAFE_INTEGER,
      onBatch: (_table, _n, ms) => {
        batches += 1;
        longestBatchMs = Math.max(longestBatchMs, ms);
      },
    });
    const s0 = performance.now();
    const deleted = await sweeper.sweepOnce();
    const sweepSeconds = (performance.now() - s0) / 1000;
    const after = await sizes(kind, db, database.url);
    console.log(JSON.stringify({
      database: kind,
      tokens: total,
      insertSeconds: Math.round(insertSeconds),
      sizeAfterInsert: before,
      primaryKeyLookupMicros: lookupMicros,
      sweep: { deleted, batches, batchSize, seconds: Math.round(sweepSeconds * 10) / 10, longestBatchMs: Math.round(longestBatchMs) },
      sizeAfterSweep: after,
    }));
    await db.$disconnect();
  } finally {
    await database.drop();
  }
}
