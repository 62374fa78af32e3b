import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import type { Accounts } from '../accounts/accounts.js';
import { normalizeEmail } from '../accounts/accounts.js';
import type { Audit } from '../audit/audit.js';
import type { Views } from '../http/views.js';
import type { Logger } from '../log.js';
import type { Csrf } from './csrf.js';

interface Deps {
  /** The live provider (it is rebuilt when signing keys rotate). */
  provider: () => Provider;
  accounts: Accounts;
  views: Views;
  csrf: Csrf;
  log: Logger;
  audit: Audit;
  /** Tessera's own clients (the admin console): consent is implied, no consent page. */
  firstPartyClients: ReadonlySet<string>;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

function page(ctx: Context, views: Views, name: string, data: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = views.render(name, data);
}

/** Login, consent and abort for oidc-provider interactions (`/interaction/:uid`). */
export function createInteractionRouter(deps: Deps): Router {
  const { provider, accounts, views, csrf, log, audit } = deps;
  const router = new Router({ prefix: '/interaction' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  async function details(ctx: Context): Promise<Details> {
    const found = await provider().interactionDetails(ctx.req, ctx.res);
    if (found.uid !== ctx.params.uid) {
      throw Object.assign(new Error('interaction mismatch'), { name: 'SessionNotFound' });
    }
    return found;
  }

  async function clientName(d: Details): Promise<string> {
    const clientId = String(d.params.client_id ?? '');
    const client = await provider().Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  function renderLogin(ctx: Context, d: Details, name: string, extra: { email?: string; error?: string }, status = 200): void {
    page(ctx, views, 'login', {
      title: 'Sign in',
      csrf: csrf.issue(ctx, d.uid),
      action: `/interaction/${d.uid}/login`,
      abortAction: `/interaction/${d.uid}/abort`,
      clientName: name,
      email: extra.email ?? '',
      error: extra.error,
    }, status);
  }

  async function finish(ctx: Context, result: Record<string, unknown>, merge: boolean): Promise<void> {
    const redirectTo = await provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  function checkCsrf(ctx: Context, uid: string): boolean {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (csrf.verify(ctx, uid, body?.csrf)) return true;
    page(ctx, views, 'error', {
      title: 'Error',
      heading: 'This form has expired',
      message: 'Please go back to the application and start signing in again.',
    }, 403);
    return false;
  }

  /** Adds what the prompt asks for to the interaction's grant (a new one if none) and saves it. */
  async function grantConsent(d: Details): Promise<string> {
    const clientId = String(d.params.client_id);
    const grant = d.grantId
      ? await provider().Grant.find(d.grantId)
      : new (provider().Grant)({ accountId: d.session!.accountId, clientId });
    if (!grant) throw Object.assign(new Error('grant not found'), { name: 'SessionNotFound' });
    const missing = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    return grant.save();
  }

  router.get('/:uid', async (ctx) => {
    const d = await details(ctx);
    const name = await clientName(d);
    if (d.prompt.name === 'login') {
      renderLogin(ctx, d, name, { email: typeof d.params.login_hint === 'string' ? d.params.login_hint : '' });
      return;
    }
    if (d.prompt.name === 'consent' && d.session?.accountId && deps.firstPartyClients.has(String(d.params.client_id))) {
      await finish(ctx, { consent: { grantId: await grantConsent(d) } }, true);
      return;
    }
    const missing = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const account = d.session?.accountId ? await accounts.findById(d.session.accountId) : null;
    page(ctx, views, 'consent', {
      title: 'Allow access',
      csrf: csrf.issue(ctx, d.uid),
      action: `/interaction/${d.uid}/confirm`,
      abortAction: `/interaction/${d.uid}/abort`,
      clientName: name,
      email: account?.email ?? '',
      scopes: missing.missingOIDCScope ?? [],
      claims: missing.missingOIDCClaims ?? [],
      apis: Object.entries(missing.missingResourceScopes ?? {}).map(([identifier, scopes]) => ({ identifier, scopes })),
    });
  });

  router.post('/:uid/login', form, async (ctx) => {
    const d = await details(ctx);
    if (!checkCsrf(ctx, d.uid)) return;
    const body = ctx.request.body as Record<string, unknown>;
    const email = typeof body.email === 'string' ? body.email : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (d.prompt.name !== 'login') {
      ctx.status = 303;
      ctx.redirect(`/interaction/${d.uid}`);
      return;
    }
    const account = email && password ? await accounts.authenticate(email, password) : null;
    if (!account) {
      log.info({ event: 'login.failed', clientId: d.params.client_id }, 'login failed');
      const known = email ? await accounts.findByEmail(email) : null;
      await audit.record({
        action: 'login',
        outcome: 'failure',
        actor: { type: 'anonymous', ip: ctx.ip },
        ...(known ? { target: { type: 'user', id: known.id } } : {}),
        reason: known?.disabled ? 'account disabled' : known ? 'wrong password' : 'unknown e-mail',
        details: { email: normalizeEmail(email).slice(0, 320), client: String(d.params.client_id ?? '') },
      });
      renderLogin(ctx, d, await clientName(d), { email, error: 'Invalid e-mail or password.' }, 401);
      return;
    }
    await accounts.recordLogin(account.id);
    await audit.record({
      action: 'login',
      actor: { type: 'user', id: account.id, label: account.email, ip: ctx.ip },
      target: { type: 'user', id: account.id },
      details: { client: String(d.params.client_id ?? ''), userAgent: ctx.get('user-agent').slice(0, 200) },
    });
    log.info({ event: 'login.succeeded', accountId: account.id, clientId: d.params.client_id }, 'login succeeded');
    await finish(ctx, { login: { accountId: account.id } }, false);
  });

  router.post('/:uid/confirm', form, async (ctx) => {
    const d = await details(ctx);
    if (!checkCsrf(ctx, d.uid)) return;
    if (d.prompt.name !== 'consent' || !d.session?.accountId) {
      ctx.status = 303;
      ctx.redirect(`/interaction/${d.uid}`);
      return;
    }
    const grantId = await grantConsent(d);
    await finish(ctx, { consent: { grantId } }, true);
  });

  router.post('/:uid/abort', form, async (ctx) => {
    const d = await details(ctx);
    if (!checkCsrf(ctx, d.uid)) return;
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  });

  return router;
}
