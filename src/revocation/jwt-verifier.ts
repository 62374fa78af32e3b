import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';

/**
 * Verifies Tessera's own JWT access tokens (signature, `typ: at+jwt`, issuer). Whether a given
 * token string carries a valid signature under a given key set never changes, so results are
 * kept in a bounded LRU cache that is dropped whenever the published keys change. Only the
 * signature check is cached: expiry is compared on every call, and whether the token is still
 * alive (grant, session, account, client, denylist) is always read from the database.
 */
export interface JwtVerifier {
  /** The verified payload, or null (bad signature, foreign issuer, wrong type, not a JWT). Ignores expiry. */
  verifySignature(token: string): Promise<JWTPayload | null>;
}

export function createJwtVerifier(deps: { issuer: string; publicJwks: () => JWK[]; maxEntries?: number }): JwtVerifier {
  let keysFor: JWK[] | undefined;
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  let cache = new LRUCache<string, JWTPayload | false>({ max: deps.maxEntries ?? 10_000 });

  function current(): ReturnType<typeof createLocalJWKSet> {
    const keys = deps.publicJwks();
    if (keys !== keysFor) {
      keysFor = keys;
      keySet = createLocalJWKSet({ keys });
      cache = new LRUCache({ max: deps.maxEntries ?? 10_000 });
    }
    return keySet!;
  }

  return {
    async verifySignature(token) {
      const keys = current();
      const cached = cache.get(token);
      if (cached !== undefined) return cached || null;
      let payload: JWTPayload | false = false;
      try {
        // currentDate 0: the signature is what is checked here; expiry is the caller's.
        ({ payload } = await jwtVerify(token, keys, { issuer: deps.issuer, typ: 'at+jwt', currentDate: new Date(0) }));
      } catch {
        payload = false;
      }
      cache.set(token, payload);
      return payload || null;
    },
  };
}
