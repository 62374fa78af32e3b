import { createCipheriv, createDecipheriv, createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

// These run on every token request: one-shot digests, and HMAC keys imported once.

/** Hex digits of the issue time (ms) that open a time-ordered id, then a tilde. */
const TIME_DIGITS = 12;
const TIME_ORDERED = /^[0-9a-f]{12}~/;

/**
 * A token id that sorts by issue time: the time in ms as 12 hex digits, a tilde, then the random
 * id. The tilde is never part of the random ids oidc-provider makes (so an older id is never
 * taken for a time-ordered one) and, unlike a dot, does not make an opaque token look like a
 * part of a JWT; it needs no escaping in a URL, a form or an Authorization header (RFC 6750). `hashIdentifier` keeps that prefix in the stored key, so the rows of new tokens go
 * to the end of their table's primary-key index instead of to a random page of it.
 */
export function timeOrderedId(random: string, now = Date.now()): string {
  return `${now.toString(16).padStart(TIME_DIGITS, '0')}~${random}`;
}

/**
 * SHA-256 of a credential-like identifier, base64url: what the database stores instead of it.
 * For a time-ordered id (`timeOrderedId`), the stored key is its time prefix followed by that
 * digest: keys of tokens issued together sit together in the index (bench/README.md).
 */
export function hashIdentifier(value: string): string {
  const digest = hash('sha256', value, 'base64url');
  return TIME_ORDERED.test(value) ? value.slice(0, TIME_DIGITS) + digest : digest;
}

/** A server key's HMAC pads (RFC 2104), computed once per key. */
interface HmacPads {
  readonly inner: Uint8Array;
  readonly outer: Uint8Array;
}
const hmacPads = new Map<string, HmacPads>(); // server keys only: a handful per process
const SHA256_BLOCK = 64;

function padsFor(key: string): HmacPads {
  let pads = hmacPads.get(key);
  if (!pads) {
    const raw = Buffer.from(key, 'utf8');
    const block = Buffer.alloc(SHA256_BLOCK);
    (raw.length > SHA256_BLOCK ? hash('sha256', raw, 'buffer') : raw).copy(block);
    pads = { inner: block.map((b) => b ^ 0x36), outer: block.map((b) => b ^ 0x5c) };
    hmacPads.set(key, pads);
  }
  return pads;
}

/**
 * HMAC-SHA-256 under a server key, base64url. Computed from two one-shot SHA-256 digests over
 * the precomputed pads (RFC 2104), the same value `createHmac` gives (tested against it): the
 * client secret of every token request is hashed here, and a `createHmac` object cost ~12 µs
 * of the event loop per request under load (bench/README.md), the one-shot digests ~3.
 */
export function keyedHash(key: string, value: string): string {
  const { inner, outer } = padsFor(key);
  const innerDigest = hash('sha256', Buffer.concat([inner, Buffer.from(value, 'utf8')]), 'buffer');
  return hash('sha256', Buffer.concat([outer, innerDigest]), 'base64url');
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
