import Router from '@koa/router';

export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers). */
export function createHealthRouter(deps: { checkDatabase: () => Promise<void> }): Router {
  const router = new Router();
  router.get(HEALTH_PATHS[0], (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get(HEALTH_PATHS[1], async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await deps.checkDatabase();
      ctx.body = { status: 'ready' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', error: 'database unreachable' };
    }
  });
  return router;
}
