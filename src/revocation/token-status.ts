import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';

import type { Accounts } from '../accounts/accounts.js';
import type { Clients } from '../clients/clients.js';
import type { Db } from '../db/client.js';
import { hashIdentifier } from '../hash.js';
import { sessionSid } from '../oidc/session-sid.js';

/** RFC 7662 §2.2 response members Tessera returns for an active token. */
export interface ActiveToken {
  active: true;
  kind: 'jwt_access_token' | 'access_token' | 'client_credentials' | 'refresh_token';
  scope?: string;
  client_id: string;
  sub?: string;
  aud?: string | string[];
  iss: string;
  exp?: number;
  iat?: number;
  token_type: string;
  jti: string;
  sid?: string;
  grantId?: string;
}

export type TokenStatus = ActiveToken | { active: false };

export type TokenTypeHint = 'access_token' | 'refresh_token' | undefined;

export interface TokenInspector {
  /** The one check every token-accepting path shares (cf. Keycloak #15195). */
  inspect(token: string, hint?: TokenTypeHint): Promise<TokenStatus>;
  /** Verifies a JWT access token's signature and issuer only (ignores expiry); null if not ours. */
  verifyJwtSignature(token: string): Promise<JWTPayload | null>;
}

const INACTIVE = { active: false } as const;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

interface OpaqueToken {
  kind: string;
  jti: string;
  clientId: string;
  accountId?: string;
  grantId?: string;
  sessionUid?: string;
  sid?: string;
  expiresWithSession?: boolean;
  scope?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  consumed?: unknown;
  tokenType?: string;
  isSenderConstrained?: () => boolean;
}

export function createTokenInspector(deps: {
  db: Db;
  /** The live provider (it is rebuilt when signing keys rotate). */
  provider: () => Provider;
  accounts: Accounts;
  clients: Clients;
  issuer: string;
  publicJwks: () => JWK[];
}): TokenInspector {
  const { db, provider, accounts, clients, issuer } = deps;
  let jwksFor: JWK[] | undefined;
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  const localKeys = () => {
    const current = deps.publicJwks();
    if (current !== jwksFor) {
      jwksFor = current;
      keySet = createLocalJWKSet({ keys: current });
    }
    return keySet!;
  };

  /** Grant, session binding, account and client must all still be alive. */
  async function alive(t: { clientId: string; accountId?: string | null; grantId?: string | null; sessionUid?: string | null; expiresWithSession?: boolean }): Promise<boolean> {
    const client = await clients.find(t.clientId);
    if (!client || client.disabled) return false;
    if (t.grantId) {
      const grant = await provider().Grant.find(t.grantId);
      if (!grant || grant.clientId !== t.clientId) return false;
    }
    if (t.expiresWithSession) {
      const session = t.sessionUid ? await provider().Session.findByUid(t.sessionUid) : undefined;
      if (!session || session.accountId !== t.accountId || (t.grantId && session.grantIdFor(t.clientId) !== t.grantId)) return false;
    }
    if (t.accountId) {
      const account = await accounts.findById(t.accountId);
      if (!account || account.disabled) return false;
    }
    return true;
  }

  async function verifyJwtSignature(token: string): Promise<JWTPayload | null> {
    try {
      const { payload } = await jwtVerify(token, localKeys(), { issuer, typ: 'at+jwt', currentDate: new Date(0) });
      return payload;
    } catch {
      return null;
    }
  }

  async function inspectJwt(token: string): Promise<TokenStatus> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, localKeys(), { issuer, typ: 'at+jwt', requiredClaims: ['jti', 'exp', 'client_id'] }));
    } catch {
      return INACTIVE;
    }
    const record = await db.jwtAccessToken.findUnique({ where: { id: hashIdentifier(String(payload.jti)) } });
    if (!record || record.revokedAt || record.expiresAt.getTime() <= Date.now()) return INACTIVE;
    if (!(await alive(record))) return INACTIVE;
    return {
      active: true,
      kind: 'jwt_access_token',
      scope: typeof payload.scope === 'string' ? payload.scope : undefined,
      client_id: record.clientId,
      sub: payload.sub,
      aud: payload.aud,
      iss: issuer,
      exp: payload.exp,
      iat: payload.iat,
      token_type: (payload.cnf as { jkt?: string } | undefined)?.jkt ? 'DPoP' : 'Bearer',
      jti: String(payload.jti),
      sid: typeof payload.sid === 'string' ? payload.sid : undefined,
      grantId: record.grantId ?? undefined,
    };
  }

  async function findOpaque(token: string, hint: TokenTypeHint): Promise<OpaqueToken | undefined> {
    // RFC 7662 §2.1: the hint only orders the lookups.
    const order = hint === 'refresh_token'
      ? [provider().RefreshToken, provider().AccessToken, provider().ClientCredentials]
      : [provider().AccessToken, provider().ClientCredentials, provider().RefreshToken];
    for (const model of order) {
      const found = (await (model as { find(v: string): Promise<unknown> }).find(token)) as OpaqueToken | undefined;
      if (found) return found;
    }
    return undefined;
  }

  async function inspectOpaque(token: string, hint: TokenTypeHint): Promise<TokenStatus> {
    const t = await findOpaque(token, hint);
    if (!t || t.consumed) return INACTIVE;
    if (!(await alive(t))) return INACTIVE;
    const kind = t.kind === 'RefreshToken' ? 'refresh_token' : t.kind === 'ClientCredentials' ? 'client_credentials' : 'access_token';
    return {
      active: true,
      kind,
      scope: t.scope || undefined,
      client_id: t.clientId,
      sub: t.accountId ?? (kind === 'client_credentials' ? t.clientId : undefined),
      aud: t.aud,
      iss: issuer,
      exp: t.exp,
      iat: t.iat,
      token_type: kind === 'refresh_token' ? 'refresh_token' : t.isSenderConstrained?.() ? 'DPoP' : 'Bearer',
      jti: t.jti,
      sid: t.sid ?? (await sessionSid(db, t.sessionUid, t.clientId)),
      grantId: t.grantId,
    };
  }

  return {
    async inspect(token, hint) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192) return INACTIVE;
      return JWT_SHAPE.test(token) ? inspectJwt(token) : inspectOpaque(token, hint);
    },
    verifyJwtSignature,
  };
}
