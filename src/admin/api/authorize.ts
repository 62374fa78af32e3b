import type { Context } from 'koa';

import type { Actor } from '../../audit/audit.js';
import type { Accounts } from '../../accounts/accounts.js';
import { AppError } from '../../errors.js';
import type { TokenInspector } from '../../revocation/token-status.js';
import { CONSOLE_COOKIE, type ConsoleSessions } from '../console/sessions.js';
import { isEnabledAdmin } from '../users.js';

export const ADMIN_SCOPE = 'admin';
export const adminAudience = (issuer: string): string => `${issuer}/admin/api`;
export const CSRF_HEADER = 'x-csrf-token';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function unauthorized(message: string, error = 'invalid_token'): AppError {
  return new AppError(401, error, message);
}

/** A refusal of a caller who did authenticate: the audit entry names them. */
export class ForbiddenCaller extends AppError {
  constructor(readonly actor: Actor, code: string, message: string) {
    super(403, code, message);
  }
}

/**
 * Who is calling the admin API. Either a bearer access token issued by this server for the
 * admin API audience with the `admin` scope (introspected in process, so a revoked token fails
 * at once; a user's token also needs the user to be an admin), or the admin console's session
 * cookie, with the console's CSRF token in a header for anything that changes state.
 */
export function createAdminAuthorizer(deps: {
  issuer: string;
  inspector: TokenInspector;
  accounts: Accounts;
  consoleSessions: ConsoleSessions;
  csrfValid: (ctx: Context, presented: unknown) => boolean;
}) {
  const audience = adminAudience(deps.issuer);
  return async (ctx: Context): Promise<Actor> => {
    const header = ctx.get('authorization');
    if (header) {
      const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header);
      if (!match) throw unauthorized('the Authorization header must be "Bearer <access token>"', 'invalid_request');
      const status = await deps.inspector.inspect(match[1]!);
      if (!status.active || status.kind === 'refresh_token') throw unauthorized('the access token is not active');
      const audiences = Array.isArray(status.aud) ? status.aud : status.aud ? [status.aud] : [];
      const scopes = (status.scope ?? '').split(' ');
      const caller: Actor = status.sub && status.kind !== 'client_credentials'
        ? { type: 'user', id: status.sub, ip: ctx.ip }
        : { type: 'client', id: status.client_id, ip: ctx.ip };
      if (!audiences.includes(audience) || !scopes.includes(ADMIN_SCOPE)) {
        throw new ForbiddenCaller(caller, 'insufficient_scope', `the access token must be issued for ${audience} with scope "${ADMIN_SCOPE}"`);
      }
      if (status.kind === 'client_credentials') return { type: 'client', id: status.client_id, ip: ctx.ip };
      const account = status.sub ? await deps.accounts.findById(status.sub) : null;
      if (!isEnabledAdmin(account)) {
        throw new ForbiddenCaller(caller, 'forbidden', 'the user of this token is not an admin');
      }
      return { type: 'admin', id: account.id, label: account.email, ip: ctx.ip };
    }
    const cookie = ctx.cookies.get(CONSOLE_COOKIE, { signed: true });
    if (!cookie) throw unauthorized('authenticate with a bearer access token or an admin console session', 'unauthorized');
    const account = await deps.consoleSessions.resolve(cookie);
    if (!account) throw unauthorized('the console session has ended; sign in again', 'unauthorized');
    if (!SAFE.has(ctx.method) && !deps.csrfValid(ctx, ctx.get(CSRF_HEADER))) {
      throw new ForbiddenCaller({ type: 'admin', id: account.id, label: account.email, ip: ctx.ip }, 'forbidden', `changes with a console session need the ${CSRF_HEADER} header`);
    }
    return { type: 'admin', id: account.id, label: account.email, ip: ctx.ip };
  };
}
