import { randomBytes, randomUUID } from 'node:crypto';

import { exportJWK, generateKeyPair, type JWK } from 'jose';

import type { Db } from '../db/client.js';

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';

/** The issuer's own keys; the SET-signing key has purpose "ssf" (src/ssf/set-key.ts). */
const OIDC_PURPOSE = 'oidc';

/** The keys an instance uses: `keys[0]` signs; the rest are published so earlier tokens verify. */
export interface SigningKeySet {
  readonly keys: JWK[];
  /** Changes whenever another key would sign or be published: instances compare it to reload. */
  readonly version: string;
}

type KeyRow = { kid: string; alg: string; privateJwk: string; createdAt: Date; retiredAt: Date | null };

/** Active keys, then keys retired less than `overlapSeconds` ago (still published, never used to sign). */
async function publishedKeys(db: Db, overlapSeconds: number): Promise<KeyRow[]> {
  const cutoff = new Date(Date.now() - overlapSeconds * 1000);
  return db.signingKey.findMany({
    where: { purpose: OIDC_PURPOSE, OR: [{ retiredAt: null }, { retiredAt: { gt: cutoff } }] },
    orderBy: [{ createdAt: 'desc' }, { kid: 'asc' }],
  });
}

function versionOf(rows: KeyRow[]): string {
  return rows.map((row) => `${row.kid}:${row.retiredAt ? 'r' : 'a'}`).join(',');
}

/**
 * The issuer's signing keys. Generated on first start and kept in the database so that restarts
 * and other instances keep validating earlier tokens; rotated by `tessera keys rotate`. When two
 * instances start at once both may insert a key: every active key is published and usable.
 */
export async function loadSigningKeys(db: Db, alg: SigningAlg, overlapSeconds: number): Promise<SigningKeySet> {
  let rows = await publishedKeys(db, overlapSeconds);
  if (!rows.some((row) => row.alg === alg && row.retiredAt === null)) {
    await db.signingKey.create({ data: { ...(await newSigningKey(alg)), purpose: OIDC_PURPOSE } });
    rows = await publishedKeys(db, overlapSeconds);
  }
  // oidc-provider signs with the first key of the algorithm: the newest active one goes first.
  const signing = rows.filter((row) => row.alg === alg && row.retiredAt === null);
  const rest = rows.filter((row) => !signing.includes(row));
  return {
    keys: [...signing, ...rest].map((row) => JSON.parse(row.privateJwk) as JWK),
    version: versionOf(rows),
  };
}

/** The current key version (one small indexed read; instances poll it). */
export async function signingKeysVersion(db: Db, overlapSeconds: number): Promise<string> {
  return versionOf(await publishedKeys(db, overlapSeconds));
}

/** Retires every active key (still published for the overlap) and creates a new one that signs. */
export async function rotateSigningKeys(db: Db, alg: SigningAlg): Promise<{ kid: string; retired: string[] }> {
  const key = await newSigningKey(alg);
  const active = await db.signingKey.findMany({ where: { purpose: OIDC_PURPOSE, retiredAt: null }, select: { kid: true } });
  await db.$transaction([
    db.signingKey.updateMany({ where: { kid: { in: active.map((k) => k.kid) } }, data: { retiredAt: new Date() } }),
    db.signingKey.create({ data: key }),
  ]);
  return { kid: key.kid, retired: active.map((k) => k.kid) };
}

export async function listSigningKeys(db: Db, overlapSeconds: number): Promise<{ kid: string; alg: string; createdAt: Date; retiredAt: Date | null; published: boolean }[]> {
  const cutoff = Date.now() - overlapSeconds * 1000;
  const rows = await db.signingKey.findMany({ where: { purpose: OIDC_PURPOSE }, orderBy: { createdAt: 'desc' }, select: { kid: true, alg: true, createdAt: true, retiredAt: true } });
  return rows.map((row) => ({ ...row, published: row.retiredAt === null || row.retiredAt.getTime() > cutoff }));
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
