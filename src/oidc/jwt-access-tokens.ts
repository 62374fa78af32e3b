import type { Db } from '../db/client.js';
import type { FastReads } from '../db/fast-reads.js';
import { hashIdentifier } from '../hash.js';
import { sessionSid } from './session-sid.js';

/** The parts of an oidc-provider AccessToken/ClientCredentials model read at JWT issuance. */
interface IssuedToken {
  jti: string;
  kind: string;
  clientId: string;
  grantId?: string;
  sessionUid?: string;
  sid?: string;
  accountId?: string;
  expiresWithSession?: boolean;
}

interface StructuredToken {
  payload: Record<string, unknown>;
}

/**
 * `formats.customizers.jwt`: oidc-provider never stores JWT access tokens (it only emits
 * `access_token.issued`), so nothing could say one is revoked. Tessera records each JWT's
 * jti (hashed), grant, session and expiry before the token leaves the server — the customizer
 * is awaited (oidc-provider lib/models/formats/jwt.js) — and adds the `sid` claim.
 */
const INSERT_SQL = 'INSERT INTO "JwtAccessToken" ("id", "grantId", "sessionUid", "accountId", "clientId", "expiresWithSession", "expiresAt", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)';

export function createJwtRecorder(db: Db, onIssued: () => void = () => undefined, fast?: FastReads) {
  return async (_ctx: unknown, token: IssuedToken, jwt: StructuredToken): Promise<void> => {
    const sid = token.sid ?? (await sessionSid(db, token.sessionUid, token.clientId));
    if (sid) jwt.payload.sid = sid;
    const exp = jwt.payload.exp;
    if (typeof exp !== 'number') throw new Error('JWT access token without exp');
    const data = {
      id: hashIdentifier(token.jti),
      grantId: token.grantId ?? null,
      sessionUid: token.sessionUid ?? null,
      accountId: token.accountId ?? null,
      clientId: token.clientId,
      expiresWithSession: token.expiresWithSession === true,
      expiresAt: new Date(exp * 1000),
    };
    // One prepared insert; through Prisma only when SQLite's write lock is busy at that instant.
    const written = fast && (await fast.write(INSERT_SQL, [data.id, data.grantId, data.sessionUid, data.accountId, data.clientId, data.expiresWithSession, data.expiresAt, new Date()]));
    if (!written) await db.jwtAccessToken.create({ data });
    onIssued();
  };
}
