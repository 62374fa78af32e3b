import type { Context } from 'koa';

/** Writes an OAuth 2.0 error response (RFC 6749 §5.2) with no-store caching. */
export function sendOAuthError(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}
