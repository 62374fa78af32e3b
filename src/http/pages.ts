import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import Router from '@koa/router';
import type { Context, Next } from 'koa';

import type { Views } from './views.js';

export const PAGE_PATHS = ['/', '/assets/tessera.css'] as const;

/** `/`, the stylesheet, and friendly 404s (JSON for API paths, a page for browsers). */
export function createPagesRouter(deps: { views: Views; assetsDir: string; issuer: string }): Router {
  const router = new Router();
  const css = readFileSync(join(deps.assetsDir, 'tessera.css'));
  router.get(PAGE_PATHS[0], (ctx) => {
    ctx.type = 'html';
    ctx.body = deps.views.render('home', { title: 'Tessera', issuer: deps.issuer });
  });
  router.get(PAGE_PATHS[1], (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  });
  return router;
}

const API_PATHS = /^\/(admin\/api|token|me|jwks|request|\.well-known)(\/|$)/;

export function notFound(deps: { views: Views }) {
  return async (ctx: Context, next: Next): Promise<void> => {
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined && ctx.body !== null) return;
    ctx.status = 404;
    ctx.set('Cache-Control', 'no-store');
    if (API_PATHS.test(ctx.path) || ctx.accepts('html', 'json') === 'json') {
      ctx.body = { error: 'not_found', error_description: `no route for ${ctx.method} ${ctx.path}` };
    } else {
      ctx.type = 'html';
      ctx.body = deps.views.render('not-found', { title: 'Page not found' });
    }
  };
}
