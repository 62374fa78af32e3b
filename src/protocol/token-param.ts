import type { Context } from 'koa';

import { sendOAuthError } from './oauth-error.js';

/**
 * The `token` of a form body (RFC 7662 §2.1, RFC 7009 §2.1), or what is wrong with the request.
 * `token_type_hint` is accepted and not needed: one statement looks the token up in every table
 * (RFC 7662 lets a server ignore the hint; it never changes the answer).
 */
export function tokenParam(ctx: Context): { token: string } | { problem: string } {
  if (!ctx.is('application/x-www-form-urlencoded')) return { problem: 'the request body must be application/x-www-form-urlencoded' };
  const { token } = (ctx.request.body ?? {}) as Record<string, unknown>;
  if (typeof token !== 'string' || token === '') return { problem: 'missing required parameter "token"' };
  return { token };
}

/** `tokenParam`, answering 400 invalid_request itself (and returning null) when it is missing. */
export function readTokenParams(ctx: Context): { token: string } | null {
  const param = tokenParam(ctx);
  if ('token' in param) return param;
  sendOAuthError(ctx, 400, 'invalid_request', param.problem);
  return null;
}
