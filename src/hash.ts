import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, hash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

// These run on every token request: one-shot digests, and HMAC keys imported once.

/** SHA-256 of a credential-like identifier, base64url: what the database stores instead of it. */
export function hashIdentifier(value: string): string {
  return hash('sha256', value, 'base64url');
}

const hmacKeys = new Map<string, KeyObject>(); // server keys only: a handful per process
/** HMAC-SHA-256 under a server key, base64url. */
export function keyedHash(key: string, value: string): string {
  let keyObject = hmacKeys.get(key);
  if (!keyObject) {
    keyObject = createSecretKey(Buffer.from(key, 'utf8'));
    hmacKeys.set(key, keyObject);
  }
  return createHmac('sha256', keyObject).update(value).digest('base64url');
}

/**
 * Constant-time equality of two digests in the same encoding (HMAC or SHA-256 outputs), whose
 * length is public: no hashing of its own, for the per-request client-secret check.
 */
export function digestsEqual(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Constant-time string equality (lengths are compared via fixed-size digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer')) && a.length === b.length;
}

/**
 * Seals a value under a key derived from a secret the database does not hold (AES-256-GCM).
 * Used to keep a device code retrievable by its user code without storing it in clear.
 */
export function sealWith(secret: string, value: string): string {
  const key = createHash('sha256').update(`tessera-seal:${secret}`).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** Opens what `sealWith` sealed; null when the secret is wrong or the value was altered. */
export function openWith(secret: string, sealed: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const key = createHash('sha256').update(`tessera-seal:${secret}`).digest();
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
