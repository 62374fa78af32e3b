import * as oidc from 'openid-client';

import { REDIRECT_URI } from './rp.js';
import { cli, type TestServer } from './server.js';

/** Raw HTTP helpers for Tessera's own protocol endpoints (introspection, revocation) and the CLI. */

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/** HTTP Basic credentials with RFC 6749 §2.3.1 form-encoding. */
export function basic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

/** POSTs to a path of the issuer. `body` as a record is sent form-encoded; a string is sent as is. */
export async function post(
  server: TestServer,
  path: string,
  body: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const isForm = typeof body !== 'string';
  const res = await fetch(`${server.issuer}${path}`, {
    method: 'POST',
    headers: { ...(isForm ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
    body: isForm ? new URLSearchParams(body).toString() : body,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const INTROSPECTION = '/token/introspection';
export const REVOCATION = '/token/revocation';

/** Runs a `tessera` CLI command with JSON on stdin and returns its JSON output (throws on failure). */
export async function cliJson<T = Record<string, unknown>>(server: TestServer, args: string[], input: unknown): Promise<T> {
  const r = await cli(server, args, JSON.stringify(input));
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.json<T>();
}

/** Registers a client through the CLI; returns its id and (for secret-based methods) secret. */
export async function createClient(server: TestServer, metadata: Record<string, unknown>): Promise<{ clientId: string; clientSecret?: string }> {
  const out = await cliJson<{ client_id: string; client_secret?: string }>(server, ['client', 'create'], metadata);
  return { clientId: out.client_id, ...(out.client_secret ? { clientSecret: out.client_secret } : {}) };
}

/** Discovery for a client with an explicit authentication method. */
export async function discoverWith(
  server: TestServer,
  clientId: string,
  auth: oidc.ClientAuth,
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(server.issuer), clientId, { redirect_uris: [REDIRECT_URI], ...metadata }, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** A client_credentials access token for one API (RFC 8707 resource indicator). */
export async function clientCredentialsToken(config: oidc.Configuration, resource: string, scope?: string): Promise<string> {
  const params: Record<string, string> = { resource };
  if (scope) params.scope = scope;
  const t = await oidc.clientCredentialsGrant(config, params);
  return t.access_token;
}

/** A refresh_token grant at the token endpoint with raw parameters; returns status and JSON. */
export async function rawRefresh(server: TestServer, client: { clientId: string; clientSecret: string }, refreshToken: string): Promise<RawResponse> {
  return post(server, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: basic(client.clientId, client.clientSecret) });
}
