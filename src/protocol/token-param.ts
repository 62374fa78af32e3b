import type { Context } from 'koa';

import type { TokenTypeHint } from '../revocation/token-status.js';
import { sendOAuthError } from './oauth-error.js';

/** Reads `token` and `token_type_hint` from a form body (RFC 7662 §2.1, RFC 7009 §2.1). */
export function readTokenParams(ctx: Context): { token: string; hint: TokenTypeHint } | null {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    sendOAuthError(ctx, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
    return null;
  }
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const { token, token_type_hint: hint } = body;
  if (typeof token !== 'string' || token === '') {
    sendOAuthError(ctx, 400, 'invalid_request', 'missing required parameter "token"');
    return null;
  }
  // Unknown hints are ignored: a hint never changes the answer, only the lookup order.
  return { token, hint: hint === 'refresh_token' || hint === 'access_token' ? hint : undefined };
}
