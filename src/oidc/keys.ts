import { randomBytes, randomUUID } from 'node:crypto';

import { exportJWK, generateKeyPair, type JWK } from 'jose';

import type { Db } from '../db/client.js';

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';

/**
 * The issuer's private signing keys (JWKS), newest first. Generated on first start and kept in
 * the database so that restarts and other instances keep validating earlier tokens. When two
 * instances start at once, both may insert; every key in the table is published and usable.
 */
export async function loadSigningKeys(db: Db, alg: SigningAlg): Promise<JWK[]> {
  let rows = await db.signingKey.findMany({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
  if (!rows.some((row) => row.alg === alg)) {
    await db.signingKey.create({ data: await newSigningKey(alg) });
    rows = await db.signingKey.findMany({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
  }
  // The configured algorithm's newest key first: oidc-provider signs with the first match.
  const preferred = rows.filter((row) => row.alg === alg);
  const others = rows.filter((row) => row.alg !== alg);
  return [...preferred, ...others].map((row) => JSON.parse(row.privateJwk) as JWK);
}

export async function newSigningKey(alg: SigningAlg): Promise<{ kid: string; alg: string; privateJwk: string }> {
  const options = alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true };
  const { privateKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, options);
  const jwk = await exportJWK(privateKey);
  const kid = randomUUID();
  return { kid, alg, privateJwk: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }) };
}

/**
 * Secrets of a purpose (oldest first, so every instance agrees on the first), generating one on first use. Shared by all instances
 * through the database. `preset` (from configuration) wins when given.
 */
export async function loadServerSecrets(db: Db, purpose: string, preset: readonly string[] = []): Promise<string[]> {
  if (preset.length > 0) return [...preset];
  const order = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];
  const existing = await db.serverSecret.findMany({ where: { purpose }, orderBy: order });
  if (existing.length > 0) return existing.map((row) => row.secret);
  await db.serverSecret.create({ data: { id: randomUUID(), purpose, secret: randomBytes(32).toString('base64url') } });
  // Re-read: if another instance raced us, every instance settles on the same ordered set.
  const rows = await db.serverSecret.findMany({ where: { purpose }, orderBy: order });
  return rows.map((row) => row.secret);
}
