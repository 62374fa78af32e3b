import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

import { readClientCredentials, type ClientSecretHasher } from '../clients/client-secrets.js';
import { usableGrantTypes, type Clients } from '../clients/clients.js';
import type { ClientMetadataLoader } from './adapter.js';

/**
 * Client metadata for oidc-provider. oidc-provider compares client secrets itself, against
 * `client_secret` in the metadata (lib/models/client.js compareClientSecret). Tessera stores
 * only an HMAC of each secret, so: if the request being served (oidc-provider's
 * AsyncLocalStorage context, `Provider.ctx`) presents a secret whose HMAC matches, the
 * metadata carries that secret; otherwise it carries a random per-process value no client can
 * know. Either way the comparison fails exactly when the presented secret is wrong, and
 * oidc-provider's client cache holds at most two entries per client.
 */
export function createClientLoader(clients: Pick<Clients, 'findEnabled'>, secrets: ClientSecretHasher): ClientMetadataLoader {
  const unmatchable = `tessera-unmatchable-${randomBytes(32).toString('base64url')}`;

  function presentedSecret(clientId: string): string | undefined {
    const ctx = Provider.ctx as unknown as { get(h: string): string; oidc?: { params?: Record<string, unknown> } } | undefined;
    if (!ctx) return undefined;
    try {
      const creds = readClientCredentials(ctx.get('authorization') || undefined, ctx.oidc?.params);
      return creds?.clientId === clientId ? creds.clientSecret : undefined;
    } catch {
      return undefined;
    }
  }

  return async (clientId) => {
    const found = await clients.findEnabled(clientId);
    if (!found) return undefined;
    const metadata: Record<string, unknown> = { ...found.record.metadata };
    if (metadata.grant_types !== undefined) metadata.grant_types = usableGrantTypes(metadata);
    if (found.secretHash !== null) {
      const presented = presentedSecret(clientId);
      metadata.client_secret = presented !== undefined && presented !== unmatchable && secrets.matches(presented, found.secretHash)
        ? presented
        : unmatchable;
    }
    return metadata;
  };
}
