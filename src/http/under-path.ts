import type { Context, Middleware, Next } from 'koa';

/**
 * Runs `middleware` only for `prefix` and the paths below it. Routers otherwise match every
 * request against each of their routes; this keeps the token endpoints, which oidc-provider
 * serves behind all of Tessera's own routers, from paying for the console's and the API's.
 */
export function underPath(prefix: string, middleware: (ctx: never, next: Next) => unknown): Middleware {
  const run = middleware as unknown as Middleware;
  return (ctx: Context, next: Next) => (ctx.path === prefix || ctx.path.startsWith(`${prefix}/`) ? run(ctx, next) : next());
}

/**
 * Runs `middleware` only for requests to exactly one of `paths` (a small router's own routes),
 * so that other requests skip its route matching altogether.
 */
export function atPaths(paths: readonly string[], middleware: (ctx: never, next: Next) => unknown): Middleware {
  const run = middleware as unknown as Middleware;
  const known = new Set(paths);
  return (ctx: Context, next: Next) => (known.has(ctx.path) ? run(ctx, next) : next());
}
