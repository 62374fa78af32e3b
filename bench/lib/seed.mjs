// Seeds a migrated Tessera database with realistic live data, straight in SQL: 10k users and
// 110k live rows (sessions, grants, refresh tokens, opaque access tokens, JWT access-token
// records) spread across those users and a few clients. Rows mirror prisma/schema.prisma and
// src/oidc/adapter.ts `toRow`: id = SHA-256(value) base64url, the payload JSON without jti,
// the grantId/sessionUid/accountId/clientId columns and expiresAt.
//
// Users reuse ONE argon2id hash made by `tessera user create` (so they can sign in with the
// template's password); clients reuse one client's metadata and secret hash (same secret).
// The token values the benchmark needs are returned in memory and never printed.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

import pg from 'pg';

const Sqlite = createRequire(import.meta.url)('better-sqlite3');

export const SEED_DEFAULTS = {
  users: Number(process.env.BENCH_SEED_USERS ?? 10_000),
  appClients: 5,
  logoutClients: 100,
};

const value = () => randomBytes(32).toString('base64url'); // oidc-provider's 43-character ids
const hashId = (v) => createHash('sha256').update(v).digest('base64url');

// ---- drivers: rows are arrays in column order; dates are Date, booleans are boolean --------------
function sqliteWriter(url) {
  const db = new Sqlite(url.replace(/^file:/, ''), { timeout: 10_000, fileMustExist: true });
  const cast = (v) => (v instanceof Date ? v.getTime() : typeof v === 'boolean' ? (v ? 1 : 0) : v);
  return {
    async read(sql, params = []) {
      return db.prepare(sql.replace(/\$\d+/g, '?')).all(...params);
    },
    async insert(table, columns, rows) {
      const stmt = db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      const batch = db.transaction((chunk) => { for (const r of chunk) stmt.run(...r.map(cast)); });
      for (let i = 0; i < rows.length; i += 5000) batch(rows.slice(i, i + 5000));
    },
    async close() { db.close(); },
  };
}

function postgresWriter(url) {
  const client = new pg.Client({ connectionString: url });
  const ready = client.connect();
  // timestamp(3) without time zone holds UTC (as Prisma writes it); the 'Z' is ignored on input.
  const cast = (v) => (v instanceof Date ? v.toISOString() : v);
  return {
    async read(sql, params = []) {
      await ready;
      return (await client.query(sql, params)).rows;
    },
    async insert(table, columns, rows) {
      await ready;
      const per = Math.floor(60_000 / columns.length); // bind-parameter limit is 65,535
      await client.query('BEGIN');
      try {
        for (let i = 0; i < rows.length; i += per) {
          const chunk = rows.slice(i, i + per);
          const values = chunk.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
          await client.query(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${values}`, chunk.flat().map(cast));
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
    async close() { await client.end(); },
  };
}

export const openWriter = (kind, url) => (kind === 'postgresql' ? postgresWriter(url) : sqliteWriter(url));

const MODEL_COLUMNS = ['id', 'payload', 'grantId', 'sessionUid', 'accountId', 'clientId', 'expiresAt', 'consumedAt', 'createdAt'];

/** A model-table row as `toRow` stores it (the value itself never reaches the database). */
function modelRow(tokenValue, payload, { grantId = null, sessionUid = null, accountId = null, clientId = null }, now) {
  return [hashId(tokenValue), JSON.stringify(payload), grantId, sessionUid, accountId, clientId, new Date(payload.exp * 1000), null, now];
}

/**
 * Seeds the database. `template` names a user and a client made with the CLI, whose password
 * hash and secret hash are copied. Returns what the scenarios need, and the seeding time.
 */
export async function seed(kind, url, template, options = SEED_DEFAULTS) {
  const started = performance.now();
  const w = openWriter(kind, url);
  try {
    const [user] = await w.read('SELECT "passwordHash" FROM "User" WHERE email = $1', [template.email]);
    const [client] = await w.read('SELECT metadata, "secretHash" FROM "Client" WHERE "clientId" = $1', [template.clientId]);
    if (!user || !client) throw new Error('seed: template user or client not found');
    const nowMs = Date.now();
    const now = new Date(nowMs);
    const iat = Math.floor(nowMs / 1000);
    const DAYS14 = 14 * 86_400;

    // Clients: the template plus a few more apps carry the seeded tokens; 100 more for logout.
    const metadata = JSON.parse(client.metadata);
    const newClient = (name) => ({ clientId: `bench-${name}`, name });
    const appClients = [template.clientId, ...Array.from({ length: options.appClients - 1 }, (_, i) => newClient(`app-${i + 2}`).clientId)];
    const logoutClients = Array.from({ length: options.logoutClients }, (_, i) => newClient(`logout-${i + 1}`).clientId);
    const clientRows = [...appClients.slice(1), ...logoutClients].map((id) => [id, JSON.stringify({ ...metadata, client_name: id }), client.secretHash, false, now, now]);
    await w.insert('Client', ['clientId', 'metadata', 'secretHash', 'disabled', 'createdAt', 'updatedAt'], clientRows);

    const users = Array.from({ length: options.users }, (_, i) => ({ id: randomUUID(), email: `bench-user-${i + 1}@bench.example` }));
    await w.insert('User', ['id', 'email', 'passwordHash', 'disabled', 'roles', 'createdAt', 'updatedAt'],
      users.map((u) => [u.id, u.email, user.passwordHash, false, '[]', now, now]));

    // Per user: one browser session holding grants for two apps. Per grant: two refresh tokens,
    // one opaque access token and one JWT access-token record.
    // 10k sessions + 20k grants + 40k RT + 20k AT + 20k JWT = 110k.
    const sessions = [];
    const grants = [];
    const refreshTokens = [];
    const accessTokens = [];
    const jwts = [];
    const refreshPool = [];
    const accessPool = [];
    users.forEach((u, i) => {
      const uid = value();
      const loginTs = iat - (i % 3600);
      const authorizations = {};
      for (const c of [appClients[i % appClients.length], appClients[(i + 1) % appClients.length]]) {
        const grantId = value();
        authorizations[c] = { sid: value(), grantId };
        grants.push(modelRow(grantId, { iat: loginTs, exp: loginTs + DAYS14, accountId: u.id, clientId: c, kind: 'Grant', openid: { scope: 'openid email' } },
          { grantId, accountId: u.id, clientId: c }, now));
        const bound = { accountId: u.id, clientId: c, grantId, sessionUid: uid };
        // Two per grant, as after a second sign-in: rotation consumes one per request.
        const rtCount = 2;
        for (let k = 0; k < rtCount; k += 1) {
          const rt = value();
          refreshTokens.push(modelRow(rt, {
            iat: loginTs, exp: loginTs + DAYS14, accountId: u.id, authTime: loginTs, expiresWithSession: true, grantId,
            gty: 'authorization_code', rotations: 0, scope: 'openid email', sessionUid: uid, kind: 'RefreshToken', clientId: c, iiat: loginTs,
          }, bound, now));
          refreshPool.push({ token: rt, clientId: c });
        }
        // Access tokens live an hour here (ACCESS_TOKEN_TTL allows it) so they outlive the run.
        const at = value();
        accessTokens.push(modelRow(at, {
          iat, exp: iat + 3600, accountId: u.id, expiresWithSession: true, grantId, gty: 'authorization_code',
          sessionUid: uid, kind: 'AccessToken', clientId: c, scope: 'openid email',
        }, bound, now));
        accessPool.push({ token: at, clientId: c });
        jwts.push([hashId(value()), grantId, uid, u.id, c, true, new Date((iat + 3600) * 1000), null, now]);
      }
      const session = { iat: loginTs, exp: loginTs + DAYS14, uid, accountId: u.id, loginTs, kind: 'Session', authorizations };
      const row = modelRow(value(), session, { sessionUid: uid, accountId: u.id }, now);
      sessions.push([...row, uid]);
    });
    await w.insert('OidcSession', [...MODEL_COLUMNS, 'uid'], sessions);
    await w.insert('OidcGrant', MODEL_COLUMNS, grants);
    await w.insert('OidcRefreshToken', MODEL_COLUMNS, refreshTokens);
    await w.insert('OidcAccessToken', MODEL_COLUMNS, accessTokens);
    await w.insert('JwtAccessToken', ['id', 'grantId', 'sessionUid', 'accountId', 'clientId', 'expiresWithSession', 'expiresAt', 'revokedAt', 'createdAt'], jwts);
    if (kind === 'postgresql') await w.read('ANALYZE');

    const counts = {
      users: users.length,
      clients: clientRows.length,
      sessions: sessions.length,
      grants: grants.length,
      refreshTokens: refreshTokens.length,
      opaqueAccessTokens: accessTokens.length,
      jwtAccessTokenRecords: jwts.length,
    };
    counts.liveRows = counts.sessions + counts.grants + counts.refreshTokens + counts.opaqueAccessTokens + counts.jwtAccessTokenRecords;
    return {
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      counts,
      users,
      appClients,
      logoutClients,
      refreshPool: shuffle(refreshPool),
      accessPool: shuffle(accessPool),
    };
  } finally {
    await w.close();
  }
}

function shuffle(a) {
  for (let i = a.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
