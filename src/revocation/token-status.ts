import type { JWTPayload } from 'jose';

import { hashIdentifier } from '../hash.js';
import type { JwtVerifier } from './jwt-verifier.js';
import type { TokenLookup, TokenRow } from './token-lookup.js';

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

export interface TokenInspector {
  /** The one check every token-accepting path shares (cf. Keycloak #15195). */
  inspect(token: string): Promise<TokenStatus>;
  /**
   * The same, reading the caller's client (`callerId`) in the same statement: `caller` is its
   * columns (TokenWithCaller), or undefined when nothing was read (a token that cannot be ours,
   * such as a JWT with a foreign signature: then the caller must be read on its own).
   */
  inspectFor(token: string, callerId: string): Promise<{ status: TokenStatus; caller?: Record<string, unknown> }>;
  /** Verifies a JWT access token's signature and issuer only (ignores expiry); null if not ours. */
  verifyJwtSignature(token: string): Promise<JWTPayload | null>;
}

const INACTIVE = { active: false } as const;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

interface SessionPayload {
  authorizations?: Record<string, { grantId?: string; sid?: string }>;
}

/**
 * Is everything the token depends on still alive? The token is unexpired and unconsumed; its
 * client exists and is enabled; its grant exists, belongs to that client and is unexpired; a
 * session-bound token's session exists, belongs to the same account and still holds this grant
 * for the client (as oidc-provider's checkSessionBinding, lib/models/token_helpers.js); and its
 * account exists and is enabled (defence in depth: revocation deletes rows, this does not need them to be deleted).
 */
export function isAlive(row: TokenRow, now: number): boolean {
  if (row.expiresAt !== null && row.expiresAt <= now) return false;
  if (row.consumedAt !== null || row.revokedAt !== null) return false;
  if (row.payload && (typeof row.payload.exp !== 'number' || row.payload.exp * 1000 <= now || row.payload.consumed)) return false;
  if (!row.clientId || !row.client || row.client.disabled) return false;
  if (row.grantId) {
    if (!row.grant || row.grant.clientId !== row.clientId) return false;
    if (row.grant.expiresAt !== null && row.grant.expiresAt <= now) return false;
  }
  if (row.expiresWithSession) {
    if (!row.session || (row.session.expiresAt !== null && row.session.expiresAt <= now)) return false;
    if (row.session.accountId !== row.accountId) return false;
    const authorizations = (JSON.parse(row.session.payload) as SessionPayload).authorizations ?? {};
    if (row.grantId && authorizations[row.clientId]?.grantId !== row.grantId) return false;
  }
  if (row.accountId && (!row.account || row.account.disabled)) return false;
  return true;
}

function sessionSid(row: TokenRow): string | undefined {
  if (!row.session || !row.clientId) return undefined;
  return (JSON.parse(row.session.payload) as SessionPayload).authorizations?.[row.clientId]?.sid;
}

export function createTokenInspector(deps: { lookup: TokenLookup; issuer: string; jwt: JwtVerifier }): TokenInspector {
  const { lookup, issuer, jwt } = deps;

  type Inspection = { status: TokenStatus; caller?: Record<string, unknown> };

  async function inspectJwt(token: string, callerId?: string): Promise<Inspection> {
    const payload = await jwt.verifySignature(token);
    if (!payload || typeof payload.jti !== 'string' || typeof payload.exp !== 'number' || typeof payload.client_id !== 'string') return { status: INACTIVE };
    const now = Date.now();
    if (payload.exp * 1000 <= now) return { status: INACTIVE };
    const { row, caller } = await lookup.findJwt(hashIdentifier(payload.jti), callerId);
    if (!row || row.clientId !== payload.client_id || !isAlive(row, now)) return { status: INACTIVE, caller };
    return { caller, status: {
      active: true,
      kind: 'jwt_access_token',
      scope: typeof payload.scope === 'string' ? payload.scope : undefined,
      client_id: row.clientId,
      sub: payload.sub,
      aud: payload.aud,
      iss: issuer,
      exp: payload.exp,
      iat: payload.iat,
      token_type: (payload.cnf as { jkt?: string } | undefined)?.jkt ? 'DPoP' : 'Bearer',
      jti: payload.jti,
      sid: typeof payload.sid === 'string' ? payload.sid : undefined,
      grantId: row.grantId ?? undefined,
    } };
  }

  async function inspectOpaque(token: string, callerId?: string): Promise<Inspection> {
    const { row, caller } = await lookup.findOpaque(hashIdentifier(token), callerId);
    if (!row?.payload || row.payload.kind !== row.kind || !isAlive(row, Date.now())) return { status: INACTIVE, caller };
    const p = row.payload;
    const kind = row.kind === 'RefreshToken' ? 'refresh_token' : row.kind === 'ClientCredentials' ? 'client_credentials' : 'access_token';
    const senderConstrained = typeof p.jkt === 'string' || typeof p['x5t#S256'] === 'string';
    return { caller, status: {
      active: true,
      kind,
      scope: typeof p.scope === 'string' && p.scope !== '' ? p.scope : undefined,
      client_id: row.clientId!,
      sub: row.accountId ?? (kind === 'client_credentials' ? row.clientId! : undefined),
      aud: p.aud as string | string[] | undefined,
      iss: issuer,
      exp: p.exp as number,
      iat: p.iat as number | undefined,
      token_type: kind === 'refresh_token' ? 'refresh_token' : senderConstrained ? 'DPoP' : 'Bearer',
      jti: token,
      sid: typeof p.sid === 'string' ? p.sid : sessionSid(row),
      grantId: row.grantId ?? undefined,
    } };
  }

  async function run(token: string, callerId?: string): Promise<Inspection> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) return { status: INACTIVE };
    return JWT_SHAPE.test(token) ? inspectJwt(token, callerId) : inspectOpaque(token, callerId);
  }

  return {
    async inspect(token) {
      return (await run(token)).status;
    },
    async inspectFor(token, callerId) {
      return run(token, callerId);
    },
    verifyJwtSignature: (token) => jwt.verifySignature(token),
  };
}
