import type { Context } from 'koa';

import type { Clients } from '../clients/clients.js';
import type { Revoker } from '../revocation/revoker.js';
import type { TokenInspector } from '../revocation/token-status.js';
import { authenticateClient } from './client-auth.js';
import { readTokenParams } from './token-param.js';

/**
 * RFC 7009 token revocation.
 * - JWT access token: denylisted by jti until it expires (introspection honours it).
 * - Opaque access token: that token only.
 * - Refresh token: the whole grant, with every token issued under it (§2.1 SHOULD).
 * Unknown, invalid, expired or another client's tokens answer 200 with no effect (§2.2), so the
 * endpoint cannot be used to probe which tokens are valid.
 */
export function createRevocationEndpoint(deps: { clients: Clients; inspector: TokenInspector; revoker: Revoker }) {
  return async (ctx: Context): Promise<void> => {
    const client = await authenticateClient(ctx, deps.clients, { allowPublic: true });
    if (!client) return;
    const params = readTokenParams(ctx);
    if (!params) return;
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 200;
    ctx.body = '';

    const cause = (what: string) => ({
      action: 'token.revoke',
      actor: { type: 'client' as const, id: client.clientId, ip: ctx.ip },
      // The application asks on the user's behalf (typically at its own sign-out).
      initiator: 'user' as const,
      target: { type: 'client', id: client.clientId },
      reason: 'RFC 7009 revocation request',
      details: { token: what },
    });
    const jwt = await deps.inspector.verifyJwtSignature(params.token);
    if (jwt) {
      if (jwt.client_id === client.clientId && typeof jwt.jti === 'string' && typeof jwt.exp === 'number') {
        const token = { jti: jwt.jti, clientId: client.clientId, sub: typeof jwt.sub === 'string' ? jwt.sub : undefined, exp: jwt.exp };
        await deps.revoker.revokeJwtAccessToken(token, cause('jwt_access_token'));
      }
      return;
    }
    const status = await deps.inspector.inspect(params.token);
    if (!status.active || status.client_id !== client.clientId) return;
    if (status.kind === 'refresh_token' && status.grantId) {
      await deps.revoker.revokeGrants([status.grantId], cause('refresh_token'));
    } else {
      await deps.revoker.revokeOpaqueToken(params.token, cause(status.kind));
    }
  };
}
