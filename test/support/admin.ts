import { expect } from 'vitest';

import { Browser } from './browser.js';
import { basic, createClient } from './protocol.js';
import type { TestServer } from './server.js';

/** Helpers for the admin API suites: an admin client, its tokens, and JSON calls to /admin/api. */

export interface AdminCaller {
  clientId: string;
  clientSecret: string;
  token: string;
}

export interface ApiResponse<T = Json> {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined when the body is not JSON). */
  body: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** The RFC 7591 metadata of a machine client allowed to ask for admin-API tokens. */
export const ADMIN_CLIENT_METADATA = {
  client_name: 'Admin Automation',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'admin',
};

export const adminResource = (server: Pick<TestServer, 'issuer'>): string => `${server.issuer}/admin/api`;

/** A raw client_credentials request at /token (status and JSON, the token is never printed). */
export async function tokenRequest(
  server: Pick<TestServer, 'issuer'>,
  client: { clientId: string; clientSecret: string },
  params: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** An access token for the admin API (client_credentials, scope admin, resource <issuer>/admin/api). */
export async function adminToken(server: Pick<TestServer, 'issuer'>, client: { clientId: string; clientSecret: string }): Promise<string> {
  const r = await tokenRequest(server, client, { scope: 'admin', resource: adminResource(server) });
  if (r.status !== 200 || typeof r.body.access_token !== 'string') {
    throw new Error(`no admin token: ${r.status} ${String(r.body.error)} ${String(r.body.error_description)}`);
  }
  return r.body.access_token;
}

/** Registers an admin client through the CLI and gets it a token. */
export async function adminCaller(server: TestServer, metadata: Record<string, unknown> = {}): Promise<AdminCaller> {
  const c = await createClient(server, { ...ADMIN_CLIENT_METADATA, ...metadata });
  const client = { clientId: c.clientId, clientSecret: c.clientSecret! };
  return { ...client, token: await adminToken(server, client) };
}

/**
 * One call to the admin API. `body` is sent as JSON unless `raw` gives the exact body (and
 * `contentType`). `token: null` sends no Authorization header.
 */
export async function call<T = Json>(
  server: Pick<TestServer, 'issuer'>,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  options: { raw?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (options.raw !== undefined) {
    payload = options.raw;
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${server.issuer}/admin/api${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** A caller bound to one server and token: `admin.get('/users')`, `admin.post('/users', {...})`. */
export function adminApi(server: Pick<TestServer, 'issuer'>, token: string | (() => string)) {
  const t = (): string => (typeof token === 'function' ? token() : token);
  return {
    get: <T = Json>(path: string) => call<T>(server, t(), 'GET', path),
    post: <T = Json>(path: string, body?: unknown) => call<T>(server, t(), 'POST', path, body),
    put: <T = Json>(path: string, body?: unknown) => call<T>(server, t(), 'PUT', path, body),
    patch: <T = Json>(path: string, body?: unknown) => call<T>(server, t(), 'PATCH', path, body),
    delete: <T = Json>(path: string) => call<T>(server, t(), 'DELETE', path),
    raw: <T = Json>(method: string, path: string, raw: string, contentType?: string) => call<T>(server, t(), method, path, undefined, { raw, contentType }),
    /** Audit entries matching a filter (query parameters), newest first. */
    audit: async (filter: Record<string, string> = {}): Promise<Json[]> => {
      const r = await call<{ items: Json[] }>(server, t(), 'GET', `/audit?${new URLSearchParams({ limit: '200', ...filter })}`);
      if (r.status !== 200) throw new Error(`audit answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body.items;
    },
  };
}

export type AdminApi = ReturnType<typeof adminApi>;

/** Asserts nothing: the shape of an invalid_input answer, for `toMatchObject`. */
export const invalid = (field: string) => ({ error: 'invalid_input', field, error_description: expect.any(String) });

/** A browser that sends a recognisable User-Agent (shown in the admin API's session list). */
export class NamedBrowser extends Browser {
  constructor(readonly userAgent: string) {
    super();
  }

  override request(url: string, init: Parameters<Browser['request']>[1] = {}): Promise<Response> {
    return super.request(url, { ...init, headers: { 'user-agent': this.userAgent, ...init.headers } });
  }
}
