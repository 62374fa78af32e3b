import type { Context } from 'koa';

import type { Clients } from '../clients/clients.js';
import type { TokenInspector } from '../revocation/token-status.js';
import { authenticateClient } from './client-auth.js';
import { readTokenParams } from './token-param.js';

/**
 * RFC 7662 token introspection for every token kind Tessera issues, JWT access tokens included.
 * Any authenticated confidential client may introspect (resource servers register as clients).
 */
export function createIntrospectionEndpoint(deps: { clients: Clients; inspector: TokenInspector }) {
  return async (ctx: Context): Promise<void> => {
    const client = await authenticateClient(ctx, deps.clients, { allowPublic: false });
    if (!client) return;
    const params = readTokenParams(ctx);
    if (!params) return;
    const status = await deps.inspector.inspect(params.token);
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
