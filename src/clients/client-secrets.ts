import { randomBytes } from 'node:crypto';

import { digestsEqual, keyedHash } from '../hash.js';

/**
 * Client secrets are stored only as HMAC-SHA-256 under a server key: a fast keyed hash
 * (no argon2 on every token request) that is useless to whoever reads the database.
 */
export interface ClientSecretHasher {
  generate(): string;
  hash(secret: string): string;
  matches(secret: string, storedHash: string): boolean;
}

export function createClientSecretHasher(key: string): ClientSecretHasher {
  const hash = (secret: string): string => keyedHash(key, `client-secret:${secret}`);
  return {
    generate: () => randomBytes(32).toString('base64url'),
    hash,
    matches: (secret, storedHash) => digestsEqual(hash(secret), storedHash),
  };
}

/** RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded inside HTTP Basic. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

export interface PresentedCredentials {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly via: 'basic' | 'post';
}

/**
 * The client credentials a request presents (HTTP Basic or client_secret_post), or null.
 * Throws a TypeError for a malformed Authorization header.
 */
export function readClientCredentials(
  authorization: string | undefined,
  body: Record<string, unknown> | undefined,
): PresentedCredentials | null {
  if (authorization !== undefined && authorization !== '') {
    const match = /^Basic ([A-Za-z0-9+/=._~-]+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw new TypeError('invalid authorization header value format');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new TypeError('invalid authorization header value format');
    try {
      return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)), via: 'basic' };
    } catch {
      throw new TypeError('client_id and client_secret in the authorization header are not properly encoded');
    }
  }
  const clientId = body?.client_id;
  if (typeof clientId === 'string' && clientId !== '') {
    const secret = body?.client_secret;
    return { clientId, clientSecret: typeof secret === 'string' ? secret : undefined, via: 'post' };
  }
  return null;
}
