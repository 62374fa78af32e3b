import { randomUUID } from 'node:crypto';

import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

import type { Db } from '../db/client.js';

/** The key that signs Security Event Tokens, and every SET key to publish. */
export interface SetKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** Published at the SSF `jwks_uri`. */
  readonly publicJwks: JWK[];
}

const PURPOSE = 'ssf';
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);

/**
 * SETs are signed RS256 (the CAEP interoperability profile requires it, whatever SIGNING_ALG
 * is) with a key of their own, generated on first start and kept in the database with the
 * issuer's keys, so that every instance signs with the same one. Published at its own
 * `jwks_uri` (/ssf/jwks), not at the issuer's: an API that trusts /jwks for access tokens
 * never trusts a SET key. When two instances start at once both may insert a key: the oldest
 * signs, all are published.
 */
export async function loadSetKey(db: Db): Promise<SetKey> {
  const read = () => db.signingKey.findMany({ where: { purpose: PURPOSE, retiredAt: null }, orderBy: [{ createdAt: 'asc' }, { kid: 'asc' }] });
  let rows = await read();
  if (rows.length === 0) {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
    await db.signingKey.create({ data: { kid, alg: 'RS256', purpose: PURPOSE, privateJwk: JSON.stringify(jwk) } });
    rows = await read();
  }
  const jwks = rows.map((row) => JSON.parse(row.privateJwk) as JWK);
  const signing = jwks[0]!;
  return {
    kid: signing.kid!,
    privateKey: (await importJWK(signing, 'RS256')) as CryptoKey,
    publicJwks: jwks.map((jwk) => Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.has(k))) as JWK),
  };
}
