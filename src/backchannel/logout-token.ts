import { randomUUID } from 'node:crypto';

import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';

/** The issuer's current private signing key (ProviderHost.signingKey()). */
export interface IssuerSigningKey {
  readonly jwk: JWK;
  readonly alg: string;
}

export interface LogoutTokenSigner {
  /** A logout token for one client's ended session. */
  sign(claims: { aud: string; sub: string; sid: string | null }): Promise<string>;
}

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Seconds a logout token is valid: oidc-provider's own choice (lib/models/client.js, IdToken with `use: 'logout'`). */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

/**
 * Signs OIDC Back-Channel Logout 1.0 logout tokens (§2.4) with the issuer's current key, the
 * one that signs ID tokens: `typ: logout+jwt` (§2.4, explicit typing per RFC 8725 §3.11);
 * claims `iss`, `aud`, `iat`, `exp`, `jti`, `sub`, `sid` whenever the session's is known (so a
 * client can end exactly that session, whether or not it asked for
 * `backchannel_logout_session_required`), and `events`; never `nonce` (§2.4: "MUST NOT").
 */
export function createLogoutTokenSigner(deps: { issuer: string; signingKey: () => IssuerSigningKey; now?: () => Date }): LogoutTokenSigner {
  const imported = new Map<string, Promise<CryptoKey | Uint8Array>>();
  const clock = deps.now ?? (() => new Date());

  function keyOf(key: IssuerSigningKey): Promise<CryptoKey | Uint8Array> {
    const id = `${key.jwk.kid ?? ''}:${key.alg}`;
    let found = imported.get(id);
    if (!found) {
      found = importJWK(key.jwk, key.alg);
      imported.set(id, found);
    }
    return found;
  }

  return {
    async sign({ aud, sub, sid }) {
      const key = deps.signingKey();
      const iat = Math.floor(clock().getTime() / 1000);
      return new SignJWT({ sub, ...(sid ? { sid } : {}), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
        .setProtectedHeader({ alg: key.alg, typ: 'logout+jwt', ...(key.jwk.kid ? { kid: key.jwk.kid } : {}) })
        .setIssuer(deps.issuer)
        .setAudience(aud)
        .setIssuedAt(iat)
        .setExpirationTime(iat + LOGOUT_TOKEN_TTL_SECONDS)
        .setJti(randomUUID())
        .sign(await keyOf(key));
    },
  };
}
