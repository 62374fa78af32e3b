import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { z } from 'zod';

import type { Actor, Audit } from '../../audit/audit.js';
import { AppError, invalidInput } from '../../errors.js';
import type { Logger } from '../../log.js';
import { ADMIN_SCOPE, ForbiddenCaller } from './authorize.js';
import { openApiDocument } from './openapi.js';
import type { AdminRoute } from './routes.js';

function parse<T extends z.ZodType>(type: T | undefined, value: unknown, where: string): z.infer<T> | undefined {
  if (!type) return undefined;
  const parsed = type.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : where;
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
  throw invalidInput(issue.code === 'unrecognized_keys' ? issue.keys[0]! : field, message);
}

/**
 * The admin API under /admin/api. Each route is served from its table entry (routes.ts):
 * rate limited per caller, authorized, validated, run, and audited. Changes are audited by the
 * services with what they changed; reads and refusals are audited here.
 */
export function createAdminApiRouter(deps: {
  routes: readonly AdminRoute[];
  issuer: string;
  authorize: (ctx: Context) => Promise<Actor>;
  audit: Audit;
  log: Logger;
  ratePerMinute: number;
}): Router {
  const router = new Router({ prefix: '/admin/api' });
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' });
  const limiter = new RateLimiterMemory({ points: deps.ratePerMinute, duration: 60 });
  const document = openApiDocument(deps.routes, deps.issuer);

  async function rateLimit(ctx: Context, key: string): Promise<void> {
    try {
      const res = await limiter.consume(key);
      ctx.set('RateLimit-Remaining', String(res.remainingPoints));
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      ctx.set('Retry-After', String(Math.ceil(err.msBeforeNext / 1000)));
      deps.log.warn({ event: 'admin.rate_limited', key }, 'admin API rate limit reached');
      throw new AppError(429, 'rate_limited', `too many requests; retry in ${Math.ceil(err.msBeforeNext / 1000)} s`);
    }
  }

  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = document;
  });

  for (const route of deps.routes) {
    router[route.method](route.path, async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      // Unauthenticated callers are limited by address before any token is looked at.
      await rateLimit(ctx, `ip:${ctx.ip}`);
      let actor: Actor;
      try {
        actor = await deps.authorize(ctx);
      } catch (err) {
        if (err instanceof AppError) {
          // RFC 6750 §3: no error code when no credentials came at all; insufficient_scope on 403.
          if (err.status === 401) ctx.set('WWW-Authenticate', `Bearer realm="tessera-admin"${err.code === 'unauthorized' ? '' : `, error="${err.code === 'invalid_token' ? 'invalid_token' : 'invalid_request'}"`}`);
          if (err.code === 'insufficient_scope') ctx.set('WWW-Authenticate', `Bearer realm="tessera-admin", error="insufficient_scope", scope="${ADMIN_SCOPE}"`);
          // A caller who authenticated but may not do this is named; others are anonymous.
          const actor = err instanceof ForbiddenCaller ? err.actor : { type: 'anonymous' as const, ip: ctx.ip };
          await deps.audit.record({ action: 'admin.denied', outcome: 'failure', actor, reason: err.message, details: { method: ctx.method, path: ctx.path } });
        }
        throw err;
      }
      await rateLimit(ctx, `${actor.type}:${actor.id}`);
      if (route.body) {
        // The body is read only once the caller is known (and within its rate limit).
        if (!ctx.is('application/json')) throw invalidInput('body', 'must be a JSON object (Content-Type: application/json)');
        try {
          await json(ctx, async () => undefined);
        } catch (err) {
          const e = err as { status?: number; message?: string };
          if (e.status === 413) throw new AppError(413, 'invalid_input', 'body: is larger than 64 kB', 'body');
          throw invalidInput('body', 'must be a valid JSON object');
        }
      }
      const input = {
        params: parse(route.params, ctx.params, 'path') as Record<string, string> ?? {},
        query: parse(route.query, { ...ctx.query }, 'query') as Record<string, unknown> ?? {},
        body: parse(route.body, ctx.request.body, 'body'),
        actor,
      };
      const result = await route.handler(input);
      if (route.method === 'get') {
        await deps.audit.record({ action: 'admin.read', actor, details: { operation: route.operationId, path: ctx.path } });
      }
      ctx.status = route.status;
      ctx.body = result;
    });
  }
  return router;
}
