import { randomBytes } from 'node:crypto';

import type { Context } from 'koa';

import { constantTimeEqual, keyedHash } from '../hash.js';

const COOKIE = 'tessera.csrf';

/**
 * CSRF tokens for Tessera's own forms: a random HttpOnly cookie, and in each form an HMAC of
 * that cookie and the interaction it belongs to (signed double submit). Hand-written because
 * the Koa CSRF middlewares need a server-side session store Tessera does not otherwise have.
 */
export interface Csrf {
  issue(ctx: Context, scope: string): string;
  verify(ctx: Context, scope: string, presented: unknown): boolean;
}

export function createCsrf(key: string, options: { secureCookies: boolean }): Csrf {
  return {
    issue(ctx, scope) {
      let cookie = ctx.cookies.get(COOKIE);
      if (!cookie || cookie.length !== 43) {
        cookie = randomBytes(32).toString('base64url');
        ctx.cookies.set(COOKIE, cookie, { httpOnly: true, sameSite: 'lax', secure: options.secureCookies || ctx.secure, path: '/', overwrite: true });
      }
      return keyedHash(key, `${cookie}:${scope}`);
    },
    verify(ctx, scope, presented) {
      const cookie = ctx.cookies.get(COOKIE);
      if (!cookie || typeof presented !== 'string') return false;
      return constantTimeEqual(keyedHash(key, `${cookie}:${scope}`), presented);
    },
  };
}
