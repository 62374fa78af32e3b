import type { FastReads } from '../db/fast-reads.js';

/**
 * Everything introspection needs about a token, read in ONE indexed query: the token row (opaque
 * access token, client_credentials token or refresh token, or a JWT access token's record), and
 * beside it whether its grant, its session, its account and its client are still alive. This
 * replaces five lookups through oidc-provider's models (token, grant, session, account, client)
 * on the hottest path of the issuer. Nothing is cached: every answer reflects committed state.
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

/** Raw values differ by driver (SQLite: numbers, 0/1; PostgreSQL: Date, boolean): normalise. */
function millis(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : Date.parse(String(value));
}

const flag = (value: unknown): boolean => value === true || value === 1 || value === 1n || value === '1' || value === 't';

const TABLES: Record<OpaqueKind, string> = {
  AccessToken: '"OidcAccessToken"',
  ClientCredentials: '"OidcClientCredentials"',
  RefreshToken: '"OidcRefreshToken"',
};

// The token itself, by primary key, from one table or (for an opaque value) from each candidate.
function opaqueSource(kinds: readonly OpaqueKind[]): string {
  return kinds
    .map((kind) => `SELECT '${kind}' AS kind, payload, "clientId", "accountId", "grantId", "sessionUid", "expiresAt", "consumedAt",
      NULL AS "revokedAt", 0 AS "expiresWithSession" FROM ${TABLES[kind]} WHERE id = $1`)
    .join(' UNION ALL ');
}

const JWT_SOURCE = `SELECT 'JwtAccessToken' AS kind, NULL AS payload, "clientId", "accountId", "grantId", "sessionUid", "expiresAt",
  NULL AS "consumedAt", "revokedAt", "expiresWithSession" FROM "JwtAccessToken" WHERE id = $1`;

// What the token depends on, joined by indexed columns (OidcGrant.grantId, OidcSession.uid, primary keys).
function query(source: string): string {
  return `SELECT t.*,
      g."clientId" AS g_client, g."expiresAt" AS g_expires, (g.id IS NOT NULL) AS g_found,
      s."accountId" AS s_account, s."expiresAt" AS s_expires, s.payload AS s_payload,
      u.disabled AS u_disabled, (u.id IS NOT NULL) AS u_found,
      c.disabled AS c_disabled, (c."clientId" IS NOT NULL) AS c_found
    FROM (${source}) t
    LEFT JOIN "OidcGrant" g ON g."grantId" = t."grantId"
    LEFT JOIN "OidcSession" s ON s.uid = t."sessionUid"
    LEFT JOIN "User" u ON u.id = t."accountId"
    LEFT JOIN "Client" c ON c."clientId" = t."clientId"
    LIMIT 1`;
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
    expiresAt: millis(raw.expiresAt),
    consumedAt: millis(raw.consumedAt),
    revokedAt: millis(raw.revokedAt),
    expiresWithSession: payload ? payload.expiresWithSession === true : flag(raw.expiresWithSession),
    grant: flag(raw.g_found) ? { clientId: (raw.g_client as string | null) ?? null, expiresAt: millis(raw.g_expires) } : null,
    session: typeof raw.s_payload === 'string'
      ? { accountId: (raw.s_account as string | null) ?? null, expiresAt: millis(raw.s_expires), payload: raw.s_payload }
      : null,
    account: flag(raw.u_found) ? { disabled: flag(raw.u_disabled) } : null,
    client: flag(raw.c_found) ? { disabled: flag(raw.c_disabled) } : null,
  };
}

export interface TokenLookup {
  /** An opaque token by SHA-256 of its value; `kinds` in the order to prefer (the hint). */
  findOpaque(idHash: string, kinds: readonly OpaqueKind[]): Promise<TokenRow | null>;
  /** A JWT access token's record by SHA-256 of its jti. */
  findJwt(jtiHash: string): Promise<TokenRow | null>;
}

export function createTokenLookup(reads: FastReads): TokenLookup {
  const opaqueQueries = new Map<string, string>();
  const jwtQuery = query(JWT_SOURCE);
  const run = async (sql: string, value: string): Promise<TokenRow | null> => {
    const raw = await reads.one(sql, [value]);
    return raw ? toRow(raw) : null;
  };
  return {
    async findOpaque(idHash, kinds) {
      const key = kinds.join(',');
      let sql = opaqueQueries.get(key);
      if (!sql) {
        sql = query(opaqueSource(kinds));
        opaqueQueries.set(key, sql);
      }
      return run(sql, idHash);
    },
    findJwt: (jtiHash) => run(jwtQuery, jtiHash),
  };
}
