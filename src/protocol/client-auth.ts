import type { Context } from 'koa';

import { readClientCredentials } from '../clients/client-secrets.js';
import type { ClientRecord, Clients } from '../clients/clients.js';
import { sendOAuthError } from './oauth-error.js';

/**
 * Client authentication for Tessera's own endpoints (introspection, revocation):
 * client_secret_basic or client_secret_post, verified against the stored HMAC in constant time.
 * With `allowPublic`, a public client (token_endpoint_auth_method "none") may identify itself
 * by client_id alone (RFC 7009 §2.1 lets public clients revoke their own tokens).
 * Answers 401 invalid_client itself and returns null when authentication fails.
 */
export async function authenticateClient(
  ctx: Context,
  clients: Clients,
  options: { allowPublic: boolean },
): Promise<ClientRecord | null> {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  let presented;
  try {
    presented = readClientCredentials(ctx.get('authorization') || undefined, body);
  } catch (err) {
    sendOAuthError(ctx, 400, 'invalid_request', (err as Error).message);
    return null;
  }
  const fail = (description: string): null => {
    if (presented?.via === 'basic') ctx.set('WWW-Authenticate', 'Basic realm="tessera"');
    sendOAuthError(ctx, 401, 'invalid_client', description);
    return null;
  };
  if (!presented) return fail('client authentication is required');
  if (presented.clientSecret === undefined) {
    if (!options.allowPublic) return fail('client authentication is required');
    const client = await clients.find(presented.clientId);
    if (!client || client.disabled || client.metadata.token_endpoint_auth_method !== 'none') {
      return fail('client authentication failed');
    }
    return client;
  }
  const client = await clients.authenticate(presented.clientId, presented.clientSecret);
  if (!client) return fail('client authentication failed');
  const method = client.metadata.token_endpoint_auth_method;
  if ((presented.via === 'basic' && method !== 'client_secret_basic') || (presented.via === 'post' && method !== 'client_secret_post')) {
    return fail(`this client must authenticate with ${String(method)}`);
  }
  return client;
}
