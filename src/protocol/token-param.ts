import type { Context } from 'koa';

import { sendOAuthError } from './oauth-error.js';

/**
 * Reads `token` from a form body (RFC 7662 §2.1, RFC 7009 §2.1). `token_type_hint` is accepted
 * and not needed: one statement looks the token up in every table (RFC 7662 lets a server
 * ignore the hint; it never changes the answer).
 */
export function readTokenParams(ctx: Context): { token: string } | null {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    sendOAuthError(ctx, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
    return null;
  }
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const { token } = body;
  if (typeof token !== 'string' || token === '') {
    sendOAuthError(ctx, 400, 'invalid_request', 'missing required parameter "token"');
    return null;
  }
  return { token };
}
