import Router from '@koa/router';
import type { Context, Next } from 'koa';

import type { Services } from '../../app.js';
import type { Views } from '../../http/views.js';
import type { Csrf } from '../../interaction/csrf.js';
import type { Logger } from '../../log.js';
import type { TokenInspector } from '../../revocation/token-status.js';
import { isEnabledAdmin } from '../users.js';
import { registerClientPages } from './client-pages.js';
import type { ConsoleOidcClient, LoginState } from './oidc-client.js';
import { registerOverviewPages } from './overview-pages.js';
import { consoleForm, createPageKit, type ConsoleState } from './page-kit.js';
import { CONSOLE_COOKIE, type ConsoleSessions } from './sessions.js';
import { registerUserPages } from './user-pages.js';

const LOGIN_COOKIE = 'tessera.console.login';
const PUBLIC_PATHS = new Set(['/admin/login', '/admin/callback', '/admin/signed-out']);

/**
 * The admin console under /admin: server-rendered pages, forms with CSRF tokens, no script.
 * Signing in is an OIDC code flow against this same issuer (oidc-client.ts); the resulting
 * console session lives as long as the grant behind it (sessions.ts).
 */
export function createConsoleRouter(deps: {
  services: Services;
  views: Views;
  csrf: Csrf;
  consoleSessions: ConsoleSessions;
  oidc: ConsoleOidcClient;
  inspector: TokenInspector;
  secureCookies: boolean;
  log: Logger;
}): Router {
  const { services, consoleSessions, oidc, log } = deps;
  const router = new Router({ prefix: '/admin' });
  const kit = createPageKit({ views: deps.views, csrf: deps.csrf });
  const cookieOptions = (ctx: Context) => ({ httpOnly: true, signed: true, secure: deps.secureCookies || ctx.secure, path: '/admin', overwrite: true });

  // Every console page needs a signed-in admin, except the steps of signing in.
  router.use(async (ctx: Context, next: Next) => {
    // The admin API (/admin/api/…) authorizes on its own; /admin/apis is a console page like any other.
    if (ctx.path === '/admin/api' || ctx.path.startsWith('/admin/api/') || PUBLIC_PATHS.has(ctx.path)) return next();
    const admin = await consoleSessions.resolve(ctx.cookies.get(CONSOLE_COOKIE, { signed: true }));
    if (!admin) {
      if (ctx.method === 'GET') {
        ctx.status = 303;
        ctx.redirect('/admin/login');
      } else {
        kit.render(ctx, 'message', { title: 'Signed out', heading: 'Your console session has ended', message: 'Sign in again to continue.', back: '/admin/login' }, 401);
      }
      return;
    }
    (ctx.state as ConsoleState).admin = admin;
    ctx.set('Cache-Control', 'no-store');
    return next();
  });
  router.use(consoleForm, kit.checkCsrf);

  router.get('/login', async (ctx) => {
    const { url, state } = await oidc.start();
    ctx.cookies.set(LOGIN_COOKIE, Buffer.from(JSON.stringify(state)).toString('base64url'), { ...cookieOptions(ctx), sameSite: 'lax', maxAge: 10 * 60_000 });
    ctx.status = 303;
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const raw = ctx.cookies.get(LOGIN_COOKIE, { signed: true });
    ctx.cookies.set(LOGIN_COOKIE, null, cookieOptions(ctx));
    let state: LoginState | null = null;
    try {
      state = raw ? (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as LoginState) : null;
    } catch {
      state = null;
    }
    if (!state || typeof ctx.query.error === 'string') {
      const denied = ctx.query.error === 'access_denied';
      kit.render(ctx, 'message', {
        title: 'Sign-in failed',
        heading: denied ? 'Sign-in was cancelled' : 'This sign-in link has expired',
        message: 'Start again from the console.',
        back: '/admin/login',
      }, 400);
      return;
    }
    let result;
    try {
      result = await oidc.finish(ctx.search, state);
    } catch (err) {
      log.warn({ event: 'console.signin_failed', err: { name: (err as Error).name, message: (err as Error).message, cause: String((err as Error).cause ?? '') } }, 'console sign-in failed');
      kit.render(ctx, 'message', { title: 'Sign-in failed', heading: 'Sign-in could not be completed', message: 'Start again from the console.', back: '/admin/login' }, 400);
      return;
    }
    const account = await services.accounts.findById(result.sub);
    const token = await deps.inspector.inspect(result.accessToken);
    if (!isEnabledAdmin(account) || !token.active || !token.grantId) {
      await services.audit.record({
        action: 'console.signin', outcome: 'failure', actor: { type: 'user', id: result.sub, label: account?.email, ip: ctx.ip }, reason: 'not an admin',
      });
      kit.render(ctx, 'message', {
        title: 'Not an admin',
        heading: 'This account is not an administrator',
        message: 'Ask an administrator to give your account the admin role, or sign out and use another account.',
        // Out of Tessera itself: signing in again would otherwise silently reuse the same account.
        back: oidc.endSessionUrl().href,
        backLabel: 'Sign out to use another account',
      }, 403);
      return;
    }
    const cookie = await consoleSessions.create(account.id, token.grantId);
    ctx.cookies.set(CONSOLE_COOKIE, cookie, { ...cookieOptions(ctx), sameSite: 'strict' });
    await services.audit.record({ action: 'console.signin', actor: { type: 'admin', id: account.id, label: account.email, ip: ctx.ip } });
    ctx.status = 303;
    ctx.redirect('/admin');
  });

  router.post('/logout', async (ctx) => {
    await consoleSessions.destroy(ctx.cookies.get(CONSOLE_COOKIE, { signed: true }));
    ctx.cookies.set(CONSOLE_COOKIE, null, cookieOptions(ctx));
    // Then Tessera's own logout, which revokes the console's grant and the browser session.
    ctx.status = 303;
    ctx.redirect(oidc.endSessionUrl().href);
  });

  router.get('/signed-out', (ctx) => {
    kit.render(ctx, 'message', { title: 'Signed out', heading: 'You are signed out of the console', message: '', back: '/admin/login', backLabel: 'Sign in again' });
  });

  registerOverviewPages(router, { services, kit });
  registerUserPages(router, { services, kit });
  registerClientPages(router, { services, kit });
  return router;
}
