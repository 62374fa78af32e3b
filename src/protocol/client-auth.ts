import type { Context } from 'koa';

import { readClientCredentials, type PresentedCredentials } from '../clients/client-secrets.js';
import type { ClientRecord, Clients, EnabledClient } from '../clients/clients.js';
import { sendOAuthError } from './oauth-error.js';

/**
 * Client authentication for Tessera's own endpoints (introspection, revocation):
 * client_secret_basic or client_secret_post, verified against the stored HMAC in constant time.
 * With `allowPublic`, a public client (token_endpoint_auth_method "none") may identify itself
 * by client_id alone (RFC 7009 §2.1 lets public clients revoke their own tokens).
 * Each step answers 401 invalid_client (or 400 for a malformed header) itself and returns null
 * when authentication fails.
 */
export interface ClientAuthOptions {
  readonly allowPublic: boolean;
}

function refuse(ctx: Context, presented: PresentedCredentials | null, description: string): null {
  if (presented?.via === 'basic') ctx.set('WWW-Authenticate', 'Basic realm="tessera"');
  sendOAuthError(ctx, 401, 'invalid_client', description);
  return null;
}

/** The credentials the request presents, before anything is read from the database. */
export function presentedClient(ctx: Context): PresentedCredentials | null {
  let presented;
  try {
    presented = readClientCredentials(ctx.get('authorization') || undefined, ctx.request.body as Record<string, unknown> | undefined);
  } catch (err) {
    sendOAuthError(ctx, 400, 'invalid_request', (err as Error).message);
    return null;
  }
  return presented ?? refuse(ctx, null, 'client authentication is required');
}

/** Checks presented credentials against the client as read (`found`: null if none or disabled). */
export function verifyClient(ctx: Context, clients: Pick<Clients, 'checkSecret'>, presented: PresentedCredentials, found: EnabledClient | null, options: ClientAuthOptions): ClientRecord | null {
  if (presented.clientSecret === undefined) {
    if (!options.allowPublic) return refuse(ctx, presented, 'client authentication is required');
    if (!found || found.record.metadata.token_endpoint_auth_method !== 'none') return refuse(ctx, presented, 'client authentication failed');
    return found.record;
  }
  const client = clients.checkSecret(found, presented.clientSecret);
  if (!client) return refuse(ctx, presented, 'client authentication failed');
  const method = client.metadata.token_endpoint_auth_method;
  if ((presented.via === 'basic' && method !== 'client_secret_basic') || (presented.via === 'post' && method !== 'client_secret_post')) {
    return refuse(ctx, presented, `this client must authenticate with ${String(method)}`);
  }
  return client;
}

/** Both steps, with the client read on its own. */
export async function authenticateClient(ctx: Context, clients: Pick<Clients, 'findEnabled' | 'checkSecret'>, options: ClientAuthOptions): Promise<ClientRecord | null> {
  const presented = presentedClient(ctx);
  if (!presented) return null;
  return verifyClient(ctx, clients, presented, await clients.findEnabled(presented.clientId), options);
}
