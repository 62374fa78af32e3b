import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

import { basicAuth } from './http.js';
import { createClient } from './protocol.js';
import type { TestServer } from './server.js';

/** An SSF receiver: a client registered with the ssf scopes, and its access token. */
export interface TestReceiver {
  clientId: string;
  clientSecret: string;
  token: string;
}

export async function registerReceiver(server: TestServer, scope = 'ssf.manage ssf.read'): Promise<{ clientId: string; clientSecret: string }> {
  const created = await createClient(server, { client_name: 'SSF receiver', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope });
  return { clientId: created.clientId, clientSecret: created.clientSecret! };
}

/** client_credentials without `resource` (generic SSF receivers send none). */
export async function receiverToken(server: TestServer, client: { clientId: string; clientSecret: string }, scope = 'ssf.manage ssf.read'): Promise<string> {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function newReceiver(server: TestServer, scope = 'ssf.manage ssf.read'): Promise<TestReceiver> {
  const client = await registerReceiver(server, scope);
  return { ...client, token: await receiverToken(server, client, scope) };
}

export interface SsfResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** An SSF call with the receiver's Bearer token (`token: null` sends none). */
export async function ssf<T = any>(server: TestServer, token: string | null, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<SsfResponse<T>> {
  const res = await fetch(new URL(path, server.issuer), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
}

export async function createPollStream(server: TestServer, receiver: TestReceiver, extra: Record<string, unknown> = {}): Promise<{ streamId: string; pollUrl: string; config: any }> {
  const res = await ssf(server, receiver.token, 'POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8936' }, ...extra });
  if (res.status !== 201) throw new Error(`stream create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { streamId: res.body.stream_id, pollUrl: res.body.delivery.endpoint_url, config: res.body };
}

export interface PollAnswer {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

export async function poll(server: TestServer, receiver: TestReceiver, pollUrl: string, request: Record<string, unknown>): Promise<PollAnswer> {
  const res = await ssf<PollAnswer>(server, receiver.token, 'POST', pollUrl, request);
  if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Verifies a SET as a receiver must (RS256, typ, iss, aud) against the SSF jwks_uri. */
export function setVerifier(server: TestServer) {
  const jwks = createRemoteJWKSet(new URL(`${server.issuer}/ssf/jwks`));
  return async (set: string, aud: string): Promise<{ payload: JWTPayload & Record<string, any>; header: Record<string, unknown> }> => {
    const { payload, protectedHeader } = await jwtVerify(set, jwks, { issuer: server.issuer, audience: aud, typ: 'secevent+jwt', algorithms: ['RS256'] });
    return { payload: payload as JWTPayload & Record<string, any>, header: protectedHeader as Record<string, unknown> };
  };
}

/** Polls (acknowledging as it goes) until `until` holds for the SETs seen so far, or `timeoutMs` pass. */
export async function pollUntil(
  server: TestServer,
  receiver: TestReceiver,
  pollUrl: string,
  until: (seen: Record<string, string>) => boolean,
  timeoutMs = 15_000,
): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  let ack: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await poll(server, receiver, pollUrl, { ack, returnImmediately: true, maxEvents: 100 });
    Object.assign(seen, answer.sets);
    ack = Object.keys(answer.sets);
    if (until(seen)) {
      if (ack.length > 0) await poll(server, receiver, pollUrl, { ack, maxEvents: 0 });
      return seen;
    }
    if (!answer.moreAvailable) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; SETs seen: ${Object.keys(seen).join(', ')}`);
}

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
