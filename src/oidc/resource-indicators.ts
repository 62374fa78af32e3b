import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';

import { ADMIN_SCOPE, adminAudience } from '../admin/api/authorize.js';

import type { Apis } from '../clients/apis.js';
import type { SigningAlg } from './keys.js';

/**
 * RFC 8707 resource indicators: each registered API is a resource server with its own audience,
 * scopes, token format (JWT per RFC 9068 by default, or opaque) and lifetime.
 */
export function createResourceServerLookup(apis: Apis, alg: SigningAlg, issuer: string) {
  const admin = adminAudience(issuer);
  return async (ctx: KoaContextWithOIDC, indicator: string): Promise<ResourceServer> => {
    if (indicator === admin) {
      // Tessera's own admin API: only for clients registered with "admin" in their scope
      // metadata (without it oidc-provider would let any client ask for any scope). Its tokens
      // are opaque and short, so revoking them or the client takes effect at once.
      const allowed = (ctx.oidc.client?.scope ?? '').split(' ').includes(ADMIN_SCOPE);
      if (!allowed) throw new errors.InvalidTarget(`this client may not request tokens for ${admin}`);
      return { audience: admin, scope: ADMIN_SCOPE, accessTokenTTL: 300, accessTokenFormat: 'opaque' };
    }
    const api = await apis.find(indicator);
    if (!api) throw new errors.InvalidTarget(`resource indicator ${indicator} is not a registered API`);
    return {
      audience: api.identifier,
      scope: api.scopes.join(' '),
      accessTokenTTL: api.accessTokenTTL,
      accessTokenFormat: api.accessTokenFormat,
      ...(api.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg } } } : {}),
    };
  };
}
