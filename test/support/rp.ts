import * as oidc from 'openid-client';

import { Browser, formAction, hiddenInput } from './browser.js';
import { cli, type TestServer } from './server.js';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1:9/signed-out';

export interface Fixture {
  email: string;
  password: string;
  userId: string;
  /** A confidential web client (client_secret_basic) allowed code + refresh_token. */
  web: { clientId: string; clientSecret: string };
  /** A resource server's introspection credentials (client_credentials client). */
  rs: { clientId: string; clientSecret: string };
  jwtApi: string;
  opaqueApi: string;
}

async function ok<T>(p: ReturnType<typeof cli>): Promise<T> {
  const r = await p;
  if (r.code !== 0) throw new Error(`tessera CLI failed (${r.code}): ${r.stderr}`);
  return r.json<T>();
}

/** Creates a user, two APIs (JWT and opaque) and two clients with the CLI, as a newcomer would. */
export async function seed(server: TestServer, email = 'alice@example.com', password = 'correct horse battery'): Promise<Fixture> {
  const user = await ok<{ id: string }>(cli(server, ['user', 'create', '--email', email, '--password-stdin'], `${password}\n`));
  await ok(cli(server, ['api', 'create'], JSON.stringify({ identifier: 'https://api.example.com', scopes: ['read', 'write'] })));
  await ok(cli(server, ['api', 'create'], JSON.stringify({ identifier: 'https://opaque.example.com', scopes: ['read'], accessTokenFormat: 'opaque', accessTokenTTL: 600 })));
  const web = await ok<{ client_id: string; client_secret: string }>(cli(server, ['client', 'create'], JSON.stringify({
    client_name: 'Web App',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [POST_LOGOUT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
  })));
  const rs = await ok<{ client_id: string; client_secret: string }>(cli(server, ['client', 'create'], JSON.stringify({
    client_name: 'Resource Server',
    redirect_uris: [],
    response_types: [],
    grant_types: ['client_credentials'],
  })));
  return {
    email,
    password,
    userId: user.id,
    web: { clientId: web.client_id, clientSecret: web.client_secret },
    rs: { clientId: rs.client_id, clientSecret: rs.client_secret },
    jwtApi: 'https://api.example.com',
    opaqueApi: 'https://opaque.example.com',
  };
}

export async function discover(server: TestServer, client: { clientId: string; clientSecret?: string }): Promise<oidc.Configuration> {
  const auth = client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None();
  return oidc.discovery(new URL(server.issuer), client.clientId, { redirect_uris: [REDIRECT_URI] }, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  claims?: oidc.IDToken;
}

/**
 * Authorization code + PKCE through Tessera's login and consent pages, driven like a browser.
 * `resource` asks for an API's token (JWT or opaque by the API's choice).
 */
/** An authorization URL for the code flow with PKCE, to the test redirect URI. */
export async function authorizationRequest(
  config: oidc.Configuration,
  options: { scope?: string; resource?: string; prompt?: string } = {},
): Promise<{ href: string; verifier: string; state: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const params: Record<string, string> = {
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  };
  if (options.resource) params.resource = options.resource;
  if (options.prompt) params.prompt = options.prompt;
  return { href: oidc.buildAuthorizationUrl(config, params).href, verifier, state };
}

export async function login(
  config: oidc.Configuration,
  browser: Browser,
  user: { email: string; password: string },
  /** `prompt: null` sends no prompt even with offline_access. */
  options: { scope?: string; resource?: string; prompt?: string | null } = {},
): Promise<Tokens & { scope?: string }> {
  const scope = options.scope ?? 'openid email';
  // OIDC Core §11: offline_access is ignored unless the request also asks for prompt=consent.
  const prompt = options.prompt === undefined ? (scope.includes('offline_access') ? 'consent' : undefined) : options.prompt;
  const { href: authUrl, verifier, state } = await authorizationRequest(config, { scope, resource: options.resource, prompt: prompt ?? undefined });

  let step = await browser.follow(authUrl, {}, REDIRECT_URI);
  for (let i = 0; i < 4 && step.res; i += 1) {
    const html = await step.res.text();
    if (step.res.status >= 400) throw new Error(`page answered ${step.res.status}: ${html.slice(0, 500)}`);
    const base = step.url;
    if (html.includes('name="password"')) {
      const action = new URL(formAction(html, /\/login$/), base).toString();
      step = await browser.follow(action, { form: { csrf: hiddenInput(html, 'csrf'), email: user.email, password: user.password } }, REDIRECT_URI);
    } else if (/\/confirm"/.test(html)) {
      const action = new URL(formAction(html, /\/confirm$/), base).toString();
      step = await browser.follow(action, { form: { csrf: hiddenInput(html, 'csrf') } }, REDIRECT_URI);
    } else {
      throw new Error(`unexpected page:\n${html.slice(0, 1000)}`);
    }
  }
  if (step.res) throw new Error('login did not reach the redirect URI');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: verifier, expectedState: state });
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    id_token: tokens.id_token,
    claims: tokens.claims(),
    scope: tokens.scope,
  };
}

/** RP-initiated logout: the logout page, then its "Sign out" (or "all my sessions") button. */
export async function logout(
  config: oidc.Configuration,
  browser: Browser,
  options: { idToken?: string; everywhere?: boolean; stay?: boolean } = {},
): Promise<{ status: number; location: string | null }> {
  const url = oidc.buildEndSessionUrl(config, {
    ...(options.idToken ? { id_token_hint: options.idToken } : {}),
    post_logout_redirect_uri: POST_LOGOUT_URI,
  }).toString();
  const page = await browser.request(url);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`logout page answered ${page.status}: ${html.slice(0, 500)}`);
  let action = new URL(formAction(html, /\/logout\/confirm$/), url).toString();
  if (options.everywhere) action += '?everywhere=1';
  const form: Record<string, string> = { xsrf: hiddenInput(html, 'xsrf') };
  if (!options.stay) form.logout = 'yes';
  const res = await browser.request(action, { form });
  return { status: res.status, location: res.headers.get('location') };
}

/** Introspects as the resource server (RFC 7662), returning the JSON body. */
export async function introspect(server: TestServer, rs: { clientId: string; clientSecret: string }, token: string, hint?: string): Promise<Record<string, unknown>> {
  const body = new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) });
  const res = await fetch(`${server.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(rs.clientId)}:${encodeURIComponent(rs.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body,
  });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Userinfo with a bearer token; returns the HTTP status. */
export async function userinfoStatus(server: TestServer, accessToken: string): Promise<number> {
  const res = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

/** A refresh_token grant; returns the OAuth error code, or the new tokens. */
export async function refresh(config: oidc.Configuration, refreshToken: string): Promise<{ error?: string; tokens?: Tokens }> {
  try {
    const t = await oidc.refreshTokenGrant(config, refreshToken);
    return { tokens: { access_token: t.access_token, refresh_token: t.refresh_token, id_token: t.id_token } };
  } catch (err) {
    const e = err as { error?: string; code?: string };
    return { error: e.error ?? e.code ?? 'unknown' };
  }
}
