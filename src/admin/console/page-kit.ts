import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';

import type { Account } from '../../accounts/accounts.js';
import type { Actor } from '../../audit/audit.js';
import { AppError } from '../../errors.js';
import type { Views } from '../../http/views.js';
import type { Csrf } from '../../interaction/csrf.js';

/** The console's per-request state, set by the sign-in check in routes.ts. */
export interface ConsoleState {
  admin: Account;
}

export const CSRF_SCOPE = 'admin';

/** A routed request: its path parameters are in `params`. */
export type PageContext = Context & { params: Record<string, string> };

export const consoleForm = bodyParser({ enableTypes: ['form'], formLimit: '64kb' });

export function actorOf(ctx: Context): Actor {
  const { admin } = ctx.state as ConsoleState;
  return { type: 'admin', id: admin.id, label: admin.email, ip: ctx.ip };
}

export function formBody(ctx: Context): Record<string, string> {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : Array.isArray(v) ? String(v[0] ?? '') : '']));
}

/** Page rendering with the console layout's data (signed-in admin, CSRF token, navigation). */
export function createPageKit(deps: { views: Views; csrf: Csrf }) {
  const { views, csrf } = deps;

  function render(ctx: Context, name: string, data: Record<string, unknown>, status = 200): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = views.render(`admin/${name}`, {
      ...data,
      admin: (ctx.state as Partial<ConsoleState>).admin,
      csrf: csrf.issue(ctx, CSRF_SCOPE),
      nav: data.nav ?? name,
    });
  }

  /** Every console POST carries the CSRF token; a missing or wrong one gets a readable 403 page. */
  async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST') return next();
    if (csrf.verify(ctx, CSRF_SCOPE, formBody(ctx).csrf)) return next();
    render(ctx, 'message', { title: 'Form expired', heading: 'This form has expired', message: 'Reload the page and try again.' }, 403);
  }

  /**
   * A destructive action asks first: without `confirm=yes` the POST answers with a page that
   * says what will happen and repeats the POST with confirmation.
   */
  function confirmed(ctx: Context, question: { heading: string; message: string; button: string; back: string; subject?: string }): boolean {
    if (formBody(ctx).confirm === 'yes') return true;
    render(ctx, 'confirm', { title: question.heading, ...question, action: ctx.path });
    return false;
  }

  /** Runs `action`; an input error (4xx AppError) is handed to `show`, anything else propagates. */
  async function onInputError(action: () => Promise<void>, show: (err: AppError) => void): Promise<void> {
    try {
      await action();
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      show(err);
    }
  }

  /** Runs a console action; a validation or not-found error renders a page that names it. */
  const attempt = (ctx: Context, back: string, action: () => Promise<void>): Promise<void> =>
    onInputError(action, (err) => render(ctx, 'message', { title: 'Not done', heading: 'That could not be done', message: err.message, back }, err.status));

  /** Runs a form's action; an input error re-renders the form naming the field, keeping what was typed. */
  const formAttempt = (ctx: Context, view: string, data: Record<string, unknown>, action: () => Promise<void>): Promise<void> =>
    onInputError(action, (err) => render(ctx, view, { ...data, error: err.message, errorField: err.field }, err.status));

  /**
   * A console POST that changes something: the question first when `confirm` is given (naming
   * what it acts on, `subject`), then `run`, then back to `then` (default: `back`) with a notice.
   * An error of the input renders a page naming it, with a link `back`.
   */
  function action(spec: {
    back: (ctx: PageContext) => string;
    confirm?: { heading: string; message: string; button: string; subject: (ctx: PageContext) => Promise<string> };
    run: (ctx: PageContext) => Promise<void>;
    notice: string;
    then?: string;
  }) {
    return async (ctx: PageContext): Promise<void> => {
      const back = spec.back(ctx);
      await attempt(ctx, back, async () => {
        if (spec.confirm) {
          const { subject, ...question } = spec.confirm;
          if (!confirmed(ctx, { ...question, back, subject: await subject(ctx) })) return;
        }
        await spec.run(ctx);
        done(ctx, spec.then ?? back, spec.notice);
      });
    };
  }

  return { render, checkCsrf, confirmed, attempt, formAttempt, action };
}

export type PageKit = ReturnType<typeof createPageKit>;

/** Where to go after an action, with a notice code the page turns into a fixed sentence. */
export function done(ctx: Context, path: string, notice: string): void {
  ctx.status = 303;
  ctx.redirect(`${path}${path.includes('?') ? '&' : '?'}done=${encodeURIComponent(notice)}`);
}

export const NOTICES: Record<string, string> = {
  'session-revoked': 'The session was revoked. Its tokens no longer work.',
  'grant-revoked': 'The grant was revoked. Its tokens no longer work.',
  'signed-out': 'The user was signed out everywhere: every session, grant and token is revoked.',
  disabled: 'The account is disabled and all of its sessions and tokens are revoked.',
  enabled: 'The account is enabled again.',
  'password-set': 'The password was changed and all sessions and tokens were revoked.',
  'roles-set': 'The roles were saved.',
  'user-created': 'The user was created.',
  'user-deleted': 'The user was deleted and everything of theirs revoked.',
  'client-saved': 'The client was saved.',
  'client-disabled': 'The client is disabled and its tokens are revoked.',
  'client-enabled': 'The client is enabled again.',
  'client-deleted': 'The client was deleted and its tokens revoked.',
  'api-saved': 'The API was saved.',
  'api-deleted': 'The API was deleted.',
};

export const noticeOf = (ctx: Context): string | undefined => NOTICES[String(ctx.query.done ?? '')];
