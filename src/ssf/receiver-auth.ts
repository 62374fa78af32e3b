import type { Context } from 'koa';

import type { Clients } from '../clients/clients.js';
import { AppError } from '../errors.js';
import type { TokenInspector } from '../revocation/token-status.js';

export const SSF_MANAGE = 'ssf.manage';
export const SSF_READ = 'ssf.read';

/** An authenticated SSF receiver: an ordinary client registered with `ssf.*` scopes. */
export interface Receiver {
  readonly clientId: string;
}

const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

/**
 * SSF 1.0 §7.1.1 / CAEP interoperability profile: receivers present an OAuth access token
 * (RFC 6750, header only) obtained with client_credentials and the `ssf.manage` / `ssf.read`
 * scopes. The token must be live (the same check as introspection), carry the scope, and its
 * client must still be registered with that scope: oidc-provider lets a client without `scope`
 * metadata ask for any scope, so the token's scope alone proves nothing.
 */
export function createReceiverAuth(deps: { inspector: TokenInspector; clients: Clients }) {
  return async function authenticate(ctx: Context, accepted: readonly string[]): Promise<Receiver> {
    const match = BEARER.exec(ctx.get('authorization'));
    if (!match) {
      ctx.set('WWW-Authenticate', 'Bearer realm="tessera"');
      throw new AppError(401, 'invalid_token', 'a Bearer access token is required');
    }
    const status = await deps.inspector.inspect(match[1]!);
    if (!status.active || status.kind === 'refresh_token') {
      ctx.set('WWW-Authenticate', 'Bearer realm="tessera", error="invalid_token"');
      throw new AppError(401, 'invalid_token', 'the access token is not active');
    }
    const granted = new Set((status.scope ?? '').split(' '));
    const client = await deps.clients.find(status.client_id);
    const registered = new Set(typeof client?.metadata.scope === 'string' ? client.metadata.scope.split(' ') : []);
    if (!client || client.disabled || !accepted.some((scope) => granted.has(scope) && registered.has(scope))) {
      ctx.set('WWW-Authenticate', `Bearer realm="tessera", error="insufficient_scope", scope="${accepted.join(' ')}"`);
      throw new AppError(403, 'insufficient_scope', `this endpoint needs a token with scope ${accepted.join(' or ')}, issued to a client registered with it`);
    }
    return { clientId: status.client_id };
  };
}
