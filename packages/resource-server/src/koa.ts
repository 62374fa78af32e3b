import { RevocationFeedStaleError } from './errors.js';
import type { KoaMiddleware } from './feed-types.js';
import type { TokenClaims } from './revocation-set.js';

/** Koa middleware after koa-jwt: 401 for a revoked `ctx.state[key]`, 503 when the feed is stale. */
export function koaMiddleware(revoked: (payload: TokenClaims) => boolean, key: string): KoaMiddleware {
  return async (ctx, next) => {
    const payload = ctx.state?.[key];
    if (typeof payload === 'object' && payload !== null) {
      let isRevoked: boolean;
      try {
        isRevoked = revoked(payload as TokenClaims);
      } catch (err) {
        if (!(err instanceof RevocationFeedStaleError)) throw err;
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: err.code, error_description: err.message };
        return;
      }
      if (isRevoked) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer error="invalid_token", error_description="The access token has been revoked"');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'invalid_token', error_description: 'The access token has been revoked' };
        return;
      }
    }
    await next();
  };
}
