import { errors, type ResourceServer } from 'oidc-provider';

import type { Apis } from '../clients/apis.js';
import type { SigningAlg } from './keys.js';

/**
 * RFC 8707 resource indicators: each registered API is a resource server with its own audience,
 * scopes, token format (JWT per RFC 9068 by default, or opaque) and lifetime.
 */
export function createResourceServerLookup(apis: Apis, alg: SigningAlg) {
  return async (_ctx: unknown, indicator: string): Promise<ResourceServer> => {
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
