import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';

import { createJwtVerifier } from '../../src/revocation/jwt-verifier.js';

async function key(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } as JWK };
}

const sign = (privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'], kid: string, claims: Record<string, unknown> = {}, iss = 'https://issuer.test') =>
  new SignJWT({ client_id: 'c', jti: 'j', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuer(iss)
    .setExpirationTime('-1m') // expired: the verifier checks signatures only
    .sign(privateKey);

describe('JWT access token signature verifier', () => {
  it('accepts our signature regardless of expiry; refuses foreign keys, issuers and types', async () => {
    const a = await key('a');
    const other = await key('a');
    const verifier = createJwtVerifier({ issuer: 'https://issuer.test', publicJwks: () => keys });
    const keys = [a.jwk];
    expect(await verifier.verifySignature(await sign(a.privateKey, 'a'))).toMatchObject({ jti: 'j' });
    expect(await verifier.verifySignature(await sign(other.privateKey, 'a'))).toBeNull();
    expect(await verifier.verifySignature(await sign(a.privateKey, 'a', {}, 'https://evil.test'))).toBeNull();
    expect(await verifier.verifySignature('not.a.jwt')).toBeNull();
  });

  it('forgets cached results when the published keys change (a key past its overlap stops verifying)', async () => {
    const a = await key('a');
    const b = await key('b');
    let keys = [b.jwk, a.jwk];
    const verifier = createJwtVerifier({ issuer: 'https://issuer.test', publicJwks: () => keys });
    const token = await sign(a.privateKey, 'a');
    expect(await verifier.verifySignature(token)).not.toBeNull();
    expect(await verifier.verifySignature(token)).not.toBeNull(); // cached
    keys = [b.jwk];
    expect(await verifier.verifySignature(token)).toBeNull();
  });
});
