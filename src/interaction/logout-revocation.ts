import type { Context, Next } from 'koa';

import type { Accounts } from '../accounts/accounts.js';
import type { Audit, Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { hashIdentifier } from '../hash.js';
import type { Logger } from '../log.js';
import type { Revoker } from '../revocation/revoker.js';

interface SessionSnapshot {
  uid: string;
  accountId: string | null;
  grantIds: Map<string, string>; // clientId -> grantId
}

async function sessionSnapshot(db: Db, where: { id: string } | { uid: string }): Promise<SessionSnapshot | null> {
  const row = await db.oidcSession.findUnique({ where });
  if (!row?.uid) return null;
  const payload = JSON.parse(row.payload) as { authorizations?: Record<string, { grantId?: string }> };
  const grantIds = new Map<string, string>();
  for (const [clientId, auth] of Object.entries(payload.authorizations ?? {})) {
    if (auth.grantId) grantIds.set(clientId, auth.grantId);
  }
  return { uid: row.uid, accountId: row.accountId, grantIds };
}

const DEFERRED_GRANTS = 'tesseraDeferredGrantRevocations';

/**
 * For the adapter: inside a logout confirm whose grants Tessera revokes itself, takes over a
 * grant oidc-provider is about to revoke (true) instead of letting it delete row by row.
 */
export function deferredGrantRevocation(ctx: { state?: Record<string, unknown> } | undefined, grantId: string): boolean {
  const deferred = ctx?.state?.[DEFERRED_GRANTS];
  if (!(deferred instanceof Set)) return false;
  deferred.add(grantId);
  return true;
}

/**
 * Makes `/logout` revoke for real. oidc-provider's confirm step (lib/actions/end_session.js)
 * revokes only grants without `offline_access` and cannot say "everywhere". This middleware
 * wraps that step: it snapshots the browser session before, lets oidc-provider validate the
 * xsrf token and end the session, and — only if that succeeded — revokes, in one transaction
 * and before the redirect leaves, every grant and token of the session (offline ones too,
 * unless the policy says otherwise), or with `?everywhere=1` every session and grant of the
 * account.
 */
export function createLogoutRevocation(deps: {
  db: Db;
  revoker: Revoker;
  accounts: Accounts;
  audit: Audit;
  log: Logger;
  sessionCookieName: string;
  confirmPath: string;
  revokeOfflineGrants: boolean;
}) {
  const { db, revoker, accounts, log } = deps;
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'POST' || ctx.path !== deps.confirmPath) return next();
    const cookie = ctx.cookies.get(deps.sessionCookieName, { signed: true });
    const before = cookie ? await sessionSnapshot(db, { id: hashIdentifier(cookie) }) : null;
    if (!before?.accountId) return next(); // no signed-in session: nothing of Tessera's to revoke
    const actor: Actor = { type: 'user', id: before.accountId, ip: ctx.ip };
    const target = { type: 'user', id: before.accountId };
    // oidc-provider's confirm step revokes each grant it ends on its own, a handful of
    // statements per grant. When Tessera revokes everything of the session anyway, those grants
    // are handed over (the adapter defers them, see deferredGrantRevocation) and revoked with
    // the rest, in one transaction.
    const deferred = new Set<string>();
    const revokeDeferred = async (reason: string) => {
      if (deferred.size > 0) await revoker.revokeGrants([...deferred], { action: 'logout', actor, target, reason });
    };
    if (deps.revokeOfflineGrants) (ctx.state as Record<string, unknown>)[DEFERRED_GRANTS] = deferred;
    try {
      await next();
    } catch (err) {
      await revokeDeferred('sign-out failed part way; the grants it had ended are revoked');
      throw err;
    } finally {
      delete (ctx.state as Record<string, unknown>)[DEFERRED_GRANTS];
    }
    // oidc-provider answers 303 only after a valid xsrf token and a completed logout.
    if (ctx.status !== 303) {
      await revokeDeferred('sign-out did not complete; the grants it had ended are revoked');
      return;
    }

    const everywhere = ctx.query.everywhere === '1';
    const after = await sessionSnapshot(db, { uid: before.uid });
    // oidc-provider has already ended the session by now, so the revocation's own session count
    // is only what was left: say what the session held.
    const held = { sessionGrants: before.grantIds.size, clients: [...before.grantIds.keys()] };
    if (everywhere) {
      const summary = await revoker.revokeAccount(before.accountId, { action: 'logout', actor, target, reason: 'signed out everywhere', details: { scope: 'everywhere', session: before.uid, ...held } });
      log.info({ event: 'logout.everywhere', accountId: before.accountId, ...summary }, 'signed out everywhere');
    } else if (!after && deps.revokeOfflineGrants) {
      const summary = await revoker.revokeSession(before.uid, [...new Set([...before.grantIds.values(), ...deferred])], { action: 'logout', actor, target, reason: 'signed out', details: { scope: 'session', session: before.uid, ...held } });
      log.info({ event: 'logout.session', accountId: before.accountId, ...summary }, 'signed out');
    } else if (after && deps.revokeOfflineGrants) {
      // "Stay signed in": only the asking client was logged out; revoke what it lost.
      const lost = [...before.grantIds].filter(([clientId]) => !after.grantIds.has(clientId));
      const summary = await revoker.revokeGrants([...new Set([...lost.map(([, grantId]) => grantId), ...deferred])], {
        action: 'logout', actor, target, reason: 'signed out of one application', details: { scope: 'client', session: before.uid, clients: lost.map(([clientId]) => clientId) },
      });
      log.info({ event: 'logout.client', accountId: before.accountId, ...summary }, 'client signed out');
    } else {
      // LOGOUT_REVOKES_OFFLINE=false: oidc-provider ended the session and kept offline grants.
      await deps.audit.record({ action: 'logout', actor, target, reason: 'signed out (offline grants kept by policy)', details: { scope: after ? 'client' : 'session', session: before.uid, ...held } });
    }
    await accounts.recordLogout(before.accountId);
  };
}
