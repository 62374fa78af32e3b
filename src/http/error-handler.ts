import type { Context, Next } from 'koa';

import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Views } from './views.js';

function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/admin/api') || ctx.path.startsWith('/token') || ctx.accepts('html', 'json') === 'json';
}

/**
 * Outermost middleware: maps AppError and unexpected errors to responses. 5xx never shows
 * internals (the cause is logged, without request bodies); an expired interaction gets a
 * readable page instead of an error.
 */
export function createErrorHandler(deps: { log: Logger; views: Views }) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const e = err as Error & { status?: number; statusCode?: number; expose?: boolean };
      let status = e instanceof AppError ? e.status : (e.status ?? e.statusCode ?? 500);
      let code = e instanceof AppError ? e.code : status >= 500 ? 'server_error' : 'invalid_request';
      let heading = 'Something went wrong';
      let message = status < 500 && e.expose !== false ? e.message : 'The server could not complete the request.';
      if (e.name === 'SessionNotFound') {
        status = 400;
        code = 'invalid_request';
        heading = 'This sign-in link has expired';
        message = 'Please go back to the application and start signing in again.';
      }
      if (status >= 500) {
        ctx.app.emit('error', err, ctx);
        deps.log.error({ err: { name: e.name, message: e.message, stack: e.stack }, path: ctx.path, method: ctx.method }, 'request failed');
      }
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      if (wantsJson(ctx)) {
        ctx.body = { error: code, error_description: message, ...(e instanceof AppError && e.field ? { field: e.field } : {}) };
      } else {
        ctx.type = 'html';
        ctx.body = deps.views.render('error', { title: 'Error', heading, message });
      }
    }
  };
}
