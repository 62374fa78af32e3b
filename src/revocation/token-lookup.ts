import type { DatabaseKind } from '../db/client.js';
import { readBoolean, readMillis, type FastReads } from '../db/fast-reads.js';

/**
 * Everything introspection needs about a token, in two indexed reads: the token row (opaque
 * access token, client_credentials token or refresh token, or a JWT access token's record) by
 * primary key, then in one statement whether its grant, session, account and client are still
 * alive. This replaces five lookups through oidc-provider's models on the hottest path of the
 * issuer. Nothing is cached: every answer reflects committed state.
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

export type OpaqueKind = 'AccessToken' | 'ClientCredentials' | 'RefreshToken';

const TABLES: Record<OpaqueKind, string> = {
  AccessToken: '"OidcAccessToken"',
  ClientCredentials: '"OidcClientCredentials"',
  RefreshToken: '"OidcRefreshToken"',
};

// The token row, by primary key.
const TOKEN_SQL = Object.fromEntries(
  (Object.keys(TABLES) as OpaqueKind[]).map((kind) => [
    kind,
    `SELECT '${kind}' AS kind, payload, "clientId", "accountId", "grantId", "sessionUid", "expiresAt", "consumedAt"
      FROM ${TABLES[kind]} WHERE id = $1`,
  ]),
) as Record<OpaqueKind, string>;

const JWT_SQL = `SELECT 'JwtAccessToken' AS kind, "clientId", "accountId", "grantId", "sessionUid", "expiresAt", "revokedAt",
  "expiresWithSession" FROM "JwtAccessToken" WHERE id = $1`;

// What the token depends on, each by an indexed column. Scalar subqueries, not joins: SQLite
// plans them as direct index probes (about 16 µs for all of them, against 78 µs as LEFT JOINs).
// A missing row reads as NULL. `ref` gives the value each probe looks up: a statement parameter,
// or a column of the token row in the same statement.
type TokenRef = (column: 'grantId' | 'sessionUid' | 'accountId' | 'clientId') => string;
const dependencies = (ref: TokenRef) => `
    (SELECT "clientId" FROM "OidcGrant" WHERE "grantId" = ${ref('grantId')}) AS g_client,
    (SELECT "expiresAt" FROM "OidcGrant" WHERE "grantId" = ${ref('grantId')}) AS g_expires,
    (SELECT "accountId" FROM "OidcSession" WHERE uid = ${ref('sessionUid')}) AS s_account,
    (SELECT "expiresAt" FROM "OidcSession" WHERE uid = ${ref('sessionUid')}) AS s_expires,
    (SELECT payload FROM "OidcSession" WHERE uid = ${ref('sessionUid')}) AS s_payload,
    (SELECT disabled FROM "User" WHERE id = ${ref('accountId')}) AS u_disabled,
    (SELECT disabled FROM "Client" WHERE "clientId" = ${ref('clientId')}) AS c_disabled`;

// SQLite: the token by primary key first, then this statement with its columns as parameters.
const PARAMETERS = ['grantId', 'sessionUid', 'accountId', 'clientId'] as const;
const DEPENDENCIES_SQL = `SELECT ${dependencies((column) => `$${PARAMETERS.indexOf(column) + 1}`)}`;

// PostgreSQL: every statement is a network round trip, so the token (from whichever of the three
// tables holds it) and its dependencies come back from one statement.
const dependenciesOf = (t: string) => dependencies((column) => `${t}."${column}"`);

const OPAQUE_ONE_TRIP_SQL = `SELECT t.*, ${dependenciesOf('t')} FROM (
  ${(Object.keys(TABLES) as OpaqueKind[]).map((kind) => TOKEN_SQL[kind]).join('\n  UNION ALL ')}
) t LIMIT 1`;

const JWT_ONE_TRIP_SQL = `SELECT t.*, ${dependenciesOf('t')} FROM (${JWT_SQL}) t`;

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
  /** An opaque token by SHA-256 of its value; `kinds` in the order to prefer (the hint). */
  findOpaque(idHash: string, kinds: readonly OpaqueKind[]): Promise<TokenRow | null>;
  /** A JWT access token's record by SHA-256 of its jti. */
  findJwt(jtiHash: string): Promise<TokenRow | null>;
}

export function createTokenLookup(reads: FastReads, kind: DatabaseKind = 'sqlite'): TokenLookup {
  if (kind === 'postgresql') {
    return {
      // Ids are random and hashed: a value exists in at most one table, so the hint has nothing to order.
      findOpaque: async (idHash) => {
        const raw = await reads.one(OPAQUE_ONE_TRIP_SQL, [idHash]);
        return raw ? toRow(raw) : null;
      },
      findJwt: async (jtiHash) => {
        const raw = await reads.one(JWT_ONE_TRIP_SQL, [jtiHash]);
        return raw ? toRow(raw) : null;
      },
    };
  }
  async function withDependencies(token: Record<string, unknown>): Promise<TokenRow> {
    const deps = await reads.one(DEPENDENCIES_SQL, PARAMETERS.map((column) => token[column] ?? null));
    return toRow({ ...token, ...deps });
  }
  return {
    async findOpaque(idHash, kinds) {
      // Ids are random and hashed: a value exists in at most one table. The hint orders the probes.
      for (const kind of kinds) {
        const token = await reads.one(TOKEN_SQL[kind], [idHash]);
        if (token) return withDependencies(token);
      }
      return null;
    },
    async findJwt(jtiHash) {
      const token = await reads.one(JWT_SQL, [jtiHash]);
      return token ? withDependencies(token) : null;
    },
  };
}
