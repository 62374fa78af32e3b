import type { Db } from '../db/client.js';
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
export function createJwtRecorder(db: Db, onIssued: () => void = () => undefined) {
  return async (_ctx: unknown, token: IssuedToken, jwt: StructuredToken): Promise<void> => {
    const sid = token.sid ?? (await sessionSid(db, token.sessionUid, token.clientId));
    if (sid) jwt.payload.sid = sid;
    const exp = jwt.payload.exp;
    if (typeof exp !== 'number') throw new Error('JWT access token without exp');
    await db.jwtAccessToken.create({
      data: {
        id: hashIdentifier(token.jti),
        grantId: token.grantId ?? null,
        sessionUid: token.sessionUid ?? null,
        accountId: token.accountId ?? null,
        clientId: token.clientId,
        expiresWithSession: token.expiresWithSession === true,
        expiresAt: new Date(exp * 1000),
      },
    });
    onIssued();
  };
}
