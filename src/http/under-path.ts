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
