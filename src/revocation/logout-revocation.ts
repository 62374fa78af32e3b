import type { Context, Next } from 'koa';

import type { Accounts } from '../accounts/accounts.js';
import type { Audit, Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { hashIdentifier } from '../hash.js';
import type { Logger } from '../log.js';
import type { ProviderRevocations } from './provider-revocations.js';
import type { Revoker } from './revoker.js';
import { readSessionSnapshot } from './session-snapshot.js';

/**
 * Makes `/logout` revoke for real. oidc-provider's confirm step (lib/actions/end_session.js)
 * revokes only grants without `offline_access` and cannot say "everywhere". This middleware
 * wraps that step: it snapshots the browser session before (its clients, their grants and
 * sids), lets oidc-provider validate the xsrf token and end the session — collecting, instead
 * of letting the adapter delete, every grant oidc-provider revokes (provider-revocations.ts) —
 * and only if that succeeded revokes, in one transaction and before the redirect leaves, every
 * grant and token of the session (offline ones too, unless the policy says otherwise), or with
 * `?everywhere=1` every session and grant of the account. The revoker logs each client's ended
 * session for the revocation feed and back-channel logout.
 */
export function createLogoutRevocation(deps: {
  db: Db;
  revoker: Revoker;
  providerRevocations: ProviderRevocations;
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
    const before = cookie ? await readSessionSnapshot(db, { id: hashIdentifier(cookie) }) : null;
    if (!before?.accountId) return next(); // no signed-in session: nothing of Tessera's to revoke
    const actor: Actor = { type: 'user', id: before.accountId, ip: ctx.ip };
    const target = { type: 'user', id: before.accountId };
    let collected = new Set<string>();
    try {
      collected = await deps.providerRevocations.collect(ctx, next);
    } catch (err) {
      // The grants oidc-provider had started to revoke must not survive a failure half way.
      await revoker.revokeGrants([...collected], { action: 'logout', actor, target, reason: 'sign-out failed part way; the grants it had ended are revoked' }, { sessions: [before] });
      throw err;
    }
    // oidc-provider answers 303 only after a valid xsrf token and a completed logout.
    if (ctx.status !== 303) {
      if (collected.size > 0) await revoker.revokeGrants([...collected], { action: 'logout', actor, target, reason: 'sign-out did not complete; the grants it had ended are revoked' }, { sessions: [before] });
      return;
    }

    const everywhere = ctx.query.everywhere === '1';
    const after = await readSessionSnapshot(db, { uid: before.uid });
    // oidc-provider has already ended the session by now, so the revocation's own session count
    // is only what was left: say what the session held.
    const held = { sessionGrants: before.clients.length, clients: before.clients.map((c) => c.clientId) };
    const sessionGrants = before.clients.map((c) => c.grantId).filter((id): id is string => id !== null);
    if (everywhere) {
      const summary = await revoker.revokeAccount(before.accountId, { action: 'logout', actor, target, reason: 'signed out everywhere', details: { scope: 'everywhere', session: before.uid, ...held } }, { sessions: [before] });
      log.info({ event: 'logout.everywhere', accountId: before.accountId, ...summary }, 'signed out everywhere');
    } else if (!after && deps.revokeOfflineGrants) {
      const summary = await revoker.revokeSession(before, [...new Set([...sessionGrants, ...collected])], { action: 'logout', actor, target, reason: 'signed out', details: { scope: 'session', session: before.uid, ...held } });
      log.info({ event: 'logout.session', accountId: before.accountId, ...summary }, 'signed out');
    } else if (after && deps.revokeOfflineGrants) {
      // "Stay signed in": only the asking client was logged out; revoke what it lost.
      const lost = before.clients.filter((c) => !after.clients.some((a) => a.clientId === c.clientId));
      const lostGrants = lost.map((c) => c.grantId).filter((id): id is string => id !== null);
      const summary = await revoker.revokeGrants([...new Set([...lostGrants, ...collected])], {
        action: 'logout', actor, target, reason: 'signed out of one application', details: { scope: 'client', session: before.uid, clients: lost.map((c) => c.clientId) },
      }, { sessions: [before] });
      log.info({ event: 'logout.client', accountId: before.accountId, ...summary }, 'client signed out');
    } else {
      // LOGOUT_REVOKES_OFFLINE=false: only what oidc-provider ended (grants without
      // offline_access); offline grants are kept, and their clients still hear that the
      // session ended.
      const ended = after ? { ...before, clients: before.clients.filter((c) => !after.clients.some((a) => a.clientId === c.clientId)) } : before;
      const summary = await revoker.revokeGrants([...collected], {
        action: 'logout', actor, target, reason: 'signed out (offline grants kept by policy)', details: { scope: after ? 'client' : 'session', session: before.uid, ...held },
      }, { sessions: [before], endedSessions: [ended] });
      log.info({ event: 'logout.kept_offline', accountId: before.accountId, ...summary }, 'signed out, offline grants kept');
    }
    await accounts.recordLogout(before.accountId);
  };
}
