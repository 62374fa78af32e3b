import { ENABLED_COLUMNS } from '../clients/clients.js';
import type { DatabaseKind } from '../db/client.js';
import { batchReads, READ_BATCHES } from '../db/batched-reads.js';
import { readBoolean, readMillis, type FastReads } from '../db/fast-reads.js';

/**
 * Everything introspection needs about a token, in one indexed read: the token row (opaque
 * access token, client_credentials token or refresh token, or a JWT access token's record) by
 * primary key, and whether its grant, session, account and client are still alive. This
 * replaces five lookups through oidc-provider's models on the hottest path of the issuer.
 * Nothing is cached: every answer reflects committed state.
 */
export interface TokenRow {
  kind: 'AccessToken' | 'ClientCredentials' | 'RefreshToken' | 'JwtAccessToken';
  /** Stored payload (oidc-provider's, without jti) — null for JWT records. */
  payload: Record<string, unknown> | null;
  clientId: string | null;
  accountId: string | null;
  grantId: string | null;
  sessionUid: string | null;
  expiresAt: number | null;
  consumedAt: number | null;
  revokedAt: number | null;
  /** JWT records carry the binding in a column; opaque tokens in their payload. */
  expiresWithSession: boolean;
  grant: { clientId: string | null; expiresAt: number | null } | null;
  session: { accountId: string | null; expiresAt: number | null; payload: string } | null;
  account: { disabled: boolean } | null;
  client: { disabled: boolean } | null;
}

/**
 * A token row (null: no such token) and, when the lookup was asked for a caller, that client's
 * columns (`ENABLED_COLUMNS`; all null: no such client).
 */
export interface TokenWithCaller {
  row: TokenRow | null;
  caller?: Record<string, unknown>;
}

export type OpaqueKind = 'AccessToken' | 'ClientCredentials' | 'RefreshToken';

const TABLES: Record<OpaqueKind, string> = {
  AccessToken: '"OidcAccessToken"',
  ClientCredentials: '"OidcClientCredentials"',
  RefreshToken: '"OidcRefreshToken"',
};

// The token row, by primary key (`id`: the SQL expression of the key).
const tokenSql = (kind: OpaqueKind, id: string) =>
  `SELECT '${kind}' AS kind, payload, "clientId", "accountId", "grantId", "sessionUid", "expiresAt", "consumedAt"
      FROM ${TABLES[kind]} WHERE id = ${id}`;

const jwtSql = (id: string) => `SELECT 'JwtAccessToken' AS kind, "clientId", "accountId", "grantId", "sessionUid", "expiresAt", "revokedAt",
  "expiresWithSession" FROM "JwtAccessToken" WHERE id = ${id}`;

// One statement per lookup (a statement is a network round trip on PostgreSQL, and on SQLite the
// first read after another connection's commit reloads its pages): the token, from whichever of
// the three tables holds it, and everything it depends on. A missing row reads as NULL.
const opaqueToken = (id: string) => `(
  ${(Object.keys(TABLES) as OpaqueKind[]).map((kind) => tokenSql(kind, id)).join('\n  UNION ALL ')}
  LIMIT 1) t`;
// LIMIT 1 also keeps SQLite from flattening the subquery into the caller's LEFT JOIN below, a
// plan about four times slower than reading the one row first.
const jwtToken = (id: string) => `(${jwtSql(id)} LIMIT 1) t`;
const OPAQUE_TOKEN = opaqueToken('$1');
const JWT_TOKEN = jwtToken('$1');

// The caller of introspection, the client authenticating ($2), is read in the same statement.
// The statement answers one row whether or not the token exists (the token's columns are then
// NULL), so how long it takes does not tell an unauthenticated caller whether a token is stored.
const CALLER_COLUMNS = ENABLED_COLUMNS.map((c) => `"caller_${c}"`);

/**
 * SQLite: what the token depends on as scalar subqueries, each an index probe evaluated for the
 * row found only (about 17 µs for a token and all of them, against 50–75 µs as LEFT JOINs and
 * 20–28 µs as two statements). Exported for the query-plan test.
 */
export function sqliteLookupSql(): Record<'opaque' | 'jwt' | 'opaqueWithCaller' | 'jwtWithCaller', string> {
  const dependencies = `
    (SELECT "clientId" FROM "OidcGrant" WHERE "grantId" = t."grantId") AS g_client,
    (SELECT "expiresAt" FROM "OidcGrant" WHERE "grantId" = t."grantId") AS g_expires,
    (SELECT "accountId" FROM "OidcSession" WHERE uid = t."sessionUid") AS s_account,
    (SELECT "expiresAt" FROM "OidcSession" WHERE uid = t."sessionUid") AS s_expires,
    (SELECT payload FROM "OidcSession" WHERE uid = t."sessionUid") AS s_payload,
    (SELECT disabled FROM "User" WHERE id = t."accountId") AS u_disabled,
    (SELECT disabled FROM "Client" WHERE "clientId" = t."clientId") AS c_disabled`;
  const caller = ENABLED_COLUMNS.map((c, i) => `(SELECT "${c}" FROM "Client" WHERE "clientId" = $2) AS ${CALLER_COLUMNS[i]}`).join(', ');
  const withCaller = (token: string) => `SELECT t.*, ${dependencies},\n    ${caller}\n  FROM (SELECT 1 AS one) caller LEFT JOIN ${token} ON TRUE`;
  return {
    opaque: `SELECT t.*, ${dependencies} FROM ${OPAQUE_TOKEN}`,
    jwt: `SELECT t.*, ${dependencies} FROM ${JWT_TOKEN}`,
    opaqueWithCaller: withCaller(OPAQUE_TOKEN),
    jwtWithCaller: withCaller(JWT_TOKEN),
  };
}

const PG_COLUMNS = `t.*, g."clientId" AS g_client, g."expiresAt" AS g_expires, s."accountId" AS s_account, s."expiresAt" AS s_expires,
    s.payload AS s_payload, u.disabled AS u_disabled, c.disabled AS c_disabled`;
const PG_DEPENDENCIES = `
    LEFT JOIN LATERAL (SELECT "clientId", "expiresAt" FROM "OidcGrant" WHERE "grantId" = t."grantId" LIMIT 1) g ON TRUE
    LEFT JOIN "OidcSession" s ON s.uid = t."sessionUid"
    LEFT JOIN "User" u ON u.id = t."accountId"
    LEFT JOIN "Client" c ON c."clientId" = t."clientId"`;
const PG_CALLER = ENABLED_COLUMNS.map((c, i) => `caller."${c}" AS ${CALLER_COLUMNS[i]}`).join(', ');

/**
 * PostgreSQL, many lookups in one statement: $1 the keys, $2 the callers (NULL: none), one row
 * per key in their order (every join is by a unique key or LIMIT 1). Each table the token
 * depends on is joined once (LATERAL for the token's own columns), which the server runs about
 * a quarter faster than the scalar subqueries SQLite uses, that read the session row three
 * times and the grant row twice.
 */
function postgresBatchSql(): Record<'opaque' | 'jwt', string> {
  const batch = (token: string) => `SELECT ${PG_COLUMNS},\n    ${PG_CALLER}
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(id, caller_id, n)
    LEFT JOIN "Client" caller ON caller."clientId" = q.caller_id
    LEFT JOIN LATERAL ${token} ON TRUE ${PG_DEPENDENCIES}
  ORDER BY q.n`;
  return { opaque: batch(opaqueToken('q.id')), jwt: batch(jwtToken('q.id')) };
}

function toRow(raw: Record<string, unknown>): TokenRow {
  const payload = typeof raw.payload === 'string' ? (JSON.parse(raw.payload) as Record<string, unknown>) : null;
  return {
    kind: raw.kind as TokenRow['kind'],
    payload,
    clientId: (raw.clientId as string | null) ?? null,
    accountId: (raw.accountId as string | null) ?? null,
    grantId: (raw.grantId as string | null) ?? null,
    sessionUid: (raw.sessionUid as string | null) ?? null,
    expiresAt: readMillis(raw.expiresAt),
    consumedAt: readMillis(raw.consumedAt),
    revokedAt: readMillis(raw.revokedAt),
    expiresWithSession: payload ? payload.expiresWithSession === true : readBoolean(raw.expiresWithSession),
    grant: typeof raw.g_client === 'string' ? { clientId: raw.g_client, expiresAt: readMillis(raw.g_expires) } : null,
    session: typeof raw.s_payload === 'string'
      ? { accountId: (raw.s_account as string | null) ?? null, expiresAt: readMillis(raw.s_expires), payload: raw.s_payload }
      : null,
    account: raw.u_disabled === null || raw.u_disabled === undefined ? null : { disabled: readBoolean(raw.u_disabled) },
    client: raw.c_disabled === null || raw.c_disabled === undefined ? null : { disabled: readBoolean(raw.c_disabled) },
  };
}

export interface TokenLookup {
  /**
   * An opaque token (access, client_credentials or refresh) by SHA-256 of its value; with
   * `callerId`, that client's columns are read in the same statement.
   */
  findOpaque(idHash: string, callerId?: string): Promise<TokenWithCaller>;
  /** A JWT access token's record by SHA-256 of its jti; `callerId` as for findOpaque. */
  findJwt(jtiHash: string, callerId?: string): Promise<TokenWithCaller>;
}

const withCallerFrom = (raw: Record<string, unknown>): TokenWithCaller => ({
  row: typeof raw.kind === 'string' ? toRow(raw) : null,
  caller: Object.fromEntries(ENABLED_COLUMNS.map((c) => [c, raw[`caller_${c}`] ?? null])),
});

/** PostgreSQL: the lookups asked for together go out as one statement (batched-reads.ts). */
function postgresLookup(reads: FastReads): TokenLookup {
  const sql = postgresBatchSql();
  const batched = (statement: string) => batchReads<{ id: string; callerId: string | null }, Record<string, unknown>>(
    (keys) => reads.rows(statement, [keys.map((k) => k.id), keys.map((k) => k.callerId)]),
    READ_BATCHES,
  );
  const opaque = batched(sql.opaque);
  const jwt = batched(sql.jwt);
  const find = async (lookup: typeof opaque, id: string, callerId: string | undefined): Promise<TokenWithCaller> => {
    const found = withCallerFrom(await lookup({ id, callerId: callerId ?? null }));
    return callerId === undefined ? { row: found.row } : found;
  };
  return {
    findOpaque: (idHash, callerId) => find(opaque, idHash, callerId),
    findJwt: (jtiHash, callerId) => find(jwt, jtiHash, callerId),
  };
}

export function createTokenLookup(reads: FastReads, kind: DatabaseKind): TokenLookup {
  if (kind === 'postgresql') return postgresLookup(reads);
  const sql = sqliteLookupSql();
  const find = async (alone: string, withCaller: string, idHash: string, callerId: string | undefined): Promise<TokenWithCaller> => {
    if (callerId === undefined) {
      const raw = await reads.one(alone, [idHash]);
      return { row: raw ? toRow(raw) : null };
    }
    return withCallerFrom((await reads.one(withCaller, [idHash, callerId])) ?? {});
  };
  return {
    findOpaque: (idHash, callerId) => find(sql.opaque, sql.opaqueWithCaller, idHash, callerId),
    findJwt: (jtiHash, callerId) => find(sql.jwt, sql.jwtWithCaller, jtiHash, callerId),
  };
}
