import type { Context } from 'koa';

import type { Clients } from '../clients/clients.js';
import type { TokenInspector } from '../revocation/token-status.js';
import { authenticateClient, presentedClient, verifyClient } from './client-auth.js';
import { readTokenParams, tokenParam } from './token-param.js';

/**
 * RFC 7662 token introspection for every token kind Tessera issues, JWT access tokens included.
 * Any authenticated confidential client may introspect (resource servers register as clients).
 * The caller's client is read in the same statement as the token (one database round trip per
 * introspection, whether or not the token exists); it is authenticated before anything about
 * the token is answered.
 */
export function createIntrospectionEndpoint(deps: { clients: Pick<Clients, 'findEnabled' | 'checkSecret' | 'enabledFromRow'>; inspector: TokenInspector }) {
  const options = { allowPublic: false };
  return async (ctx: Context): Promise<void> => {
    const param = tokenParam(ctx);
    if (!('token' in param)) {
      // A malformed request: authenticate the caller first (401 before 400), then say what is wrong.
      if (await authenticateClient(ctx, deps.clients, options)) readTokenParams(ctx);
      return;
    }
    const presented = presentedClient(ctx);
    if (!presented) return;
    const { status, caller } = await deps.inspector.inspectFor(param.token, presented.clientId);
    const found = caller === undefined ? await deps.clients.findEnabled(presented.clientId) : deps.clients.enabledFromRow(presented.clientId, caller);
    if (!verifyClient(ctx, deps.clients, presented, found, options)) return;
    ctx.set('Cache-Control', 'no-store');
    if (!status.active) {
      // RFC 7662 §2.2: for an inactive token, respond with only {"active": false}.
      ctx.body = { active: false };
      return;
    }
    const { kind: _kind, grantId: _grantId, ...claims } = status;
    ctx.body = claims;
  };
}
