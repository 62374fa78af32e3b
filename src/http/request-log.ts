import type { Context, Next } from 'koa';

import type { Logger } from '../log.js';

/**
 * One JSON line per request: method, path (never the query string, which can carry codes and
 * tokens), status and duration.
 */
export function requestLog(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = performance.now();
    try {
      await next();
    } finally {
      log.info({ event: 'http', method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - start) }, 'request');
    }
  };
}
