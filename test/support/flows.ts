import { openTestDb, type TestDb } from './database.js';
import * as oidc from 'openid-client';

import { Browser, formAction, hiddenInput } from './browser.js';
import { login, REDIRECT_URI, type Tokens } from './rp.js';
import { cli, type TestServer } from './server.js';

/**
 * Extra helpers for the refresh / sessions / offline-policy / accounts flow suites.
 * (test/support/rp.ts is shared and left untouched; what needed changing is copied here.)
 */

async function ok<T>(p: ReturnType<typeof cli>): Promise<T> {
  const r = await p;
  if (r.code !== 0) throw new Error(`tessera CLI failed (${r.code}): ${r.stderr}`);
  return r.json<T>();
}

/** `tessera user create`; returns the new user's id. */
export async function createUser(server: TestServer, email: string, password: string): Promise<{ email: string; password: string; userId: string }> {
  const user = await ok<{ id: string }>(cli(server, ['user', 'create', '--email', email, '--password-stdin'], `${password}\n`));
  return { email, password, userId: user.id };
}

/** `tessera client create` for a confidential code + refresh_token client on the test redirect URI. */
export async function createWebClient(server: TestServer, name: string, extra: Record<string, unknown> = {}): Promise<{ clientId: string; clientSecret: string }> {
  const c = await ok<{ client_id: string; client_secret: string }>(cli(server, ['client', 'create'], JSON.stringify({
    client_name: name,
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: ['http://127.0.0.1:9/signed-out'],
    grant_types: ['authorization_code', 'refresh_token'],
    ...extra,
  })));
  return { clientId: c.client_id, clientSecret: c.client_secret };
}

export interface AuthOptions {
  scope?: string;
  resource?: string;
  /** e.g. 'consent': oidc-provider honours offline_access only with prompt=consent (OIDC Core §11). */
  prompt?: string;
}

function authorizationUrl(config: oidc.Configuration, options: AuthOptions, pkce: { challenge: string; state: string }): string {
  const params: Record<string, string> = {
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? 'openid email',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: pkce.state,
  };
  if (options.resource) params.resource = options.resource;
  if (options.prompt) params.prompt = options.prompt;
  return oidc.buildAuthorizationUrl(config, params).toString();
}

/** rp.ts's login() with `prompt` sent only when asked for; also returns the token endpoint's `scope`. */
export async function loginWith(
  config: oidc.Configuration,
  browser: Browser,
  user: { email: string; password: string },
  options: AuthOptions = {},
): Promise<Tokens & { scope?: string }> {
  return login(config, browser, user, { ...options, prompt: options.prompt ?? null });
}

/**
 * Starts an authorization request and follows it until the first page the user would see
 * (or until it comes back to the redirect URI without any page: silent SSO).
 */
export async function firstPage(config: oidc.Configuration, browser: Browser, options: AuthOptions = {}): Promise<{ url: string; status: number; html: string } | { redirected: string }> {
  const authUrl = authorizationUrl(config, options, {
    challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    state: oidc.randomState(),
  });
  const step = await browser.follow(authUrl, {}, REDIRECT_URI);
  if (!step.res) return { redirected: step.url };
  return { url: step.url, status: step.res.status, html: await step.res.text() };
}

/** Opens the login page of a new authorization request and submits these credentials once. */
export async function submitPassword(
  config: oidc.Configuration,
  browser: Browser,
  credentials: { email: string; password: string },
): Promise<{ status: number; html: string; location: string | null }> {
  const page = await firstPage(config, browser);
  if ('redirected' in page) throw new Error(`no login page: redirected to ${page.redirected}`);
  if (!page.html.includes('name="password"')) throw new Error(`not a login page:\n${page.html.slice(0, 1000)}`);
  const action = new URL(formAction(page.html, /\/login$/), page.url).toString();
  const res = await browser.request(action, { form: { csrf: hiddenInput(page.html, 'csrf'), email: credentials.email, password: credentials.password } });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}

/** A refresh_token grant with extra parameters (e.g. `resource`); the OAuth error code or the tokens. */
export async function refreshWith(
  config: oidc.Configuration,
  refreshToken: string,
  parameters: Record<string, string> = {},
): Promise<{ error?: string; tokens?: Tokens & { scope?: string } }> {
  try {
    const t = await oidc.refreshTokenGrant(config, refreshToken, parameters);
    return { tokens: { access_token: t.access_token, refresh_token: t.refresh_token, id_token: t.id_token, scope: t.scope } };
  } catch (err) {
    const e = err as { error?: string; code?: string };
    return { error: e.error ?? e.code ?? 'unknown' };
  }
}

/** The server's database, opened directly (what an operator or an attacker with disk access sees). */
export async function openDb(server: Pick<TestServer, 'databaseUrl'>): Promise<TestDb> {
  return openTestDb(server.databaseUrl);
}
