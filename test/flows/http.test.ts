import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser, formAction, hiddenInput } from '../support/browser.js';
import { clientCredentials, freePort, runMain } from '../support/http.js';
import { discover, introspect, login, logout, REDIRECT_URI, refresh, seed, type Fixture } from '../support/rp.js';
import { cli, FAST_ARGON2, startServer, type TestServer } from '../support/server.js';

// Every suite here starts real server processes; give scenarios room on a loaded machine.
const SLOW = { timeout: 90_000 };

interface LoginPage {
  config: oidc.Configuration;
  verifier: string;
  state: string;
  url: string;
  res: Response;
  html: string;
  /** Absolute URL of the login form's action. */
  action: string;
  uid: string;
}

/** An authorization request with a real client, followed like a browser to Tessera's login page. */
async function openLoginPage(server: TestServer, f: Fixture, browser: Browser): Promise<LoginPage> {
  const config = await discover(server, f.web);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  }).toString();
  const step = await browser.follow(authUrl, {}, REDIRECT_URI);
  if (!step.res) throw new Error('the authorization request went straight back to the client');
  const html = await step.res.text();
  const action = new URL(formAction(html, /\/login$/), step.url).toString();
  const uid = /\/interaction\/([^/]+)\/login$/.exec(new URL(action).pathname)?.[1];
  if (!uid) throw new Error(`no interaction uid in ${action}`);
  return { config, verifier, state, url: step.url, res: step.res, html, action, uid };
}

/** From a login form post to the client's redirect URI (through consent), then the code exchange. */
async function finishLogin(page: LoginPage, browser: Browser, form: Record<string, string>): ReturnType<typeof oidc.authorizationCodeGrant> {
  const callback = await reachCallback(page, browser, form);
  return oidc.authorizationCodeGrant(page.config, callback, { pkceCodeVerifier: page.verifier, expectedState: page.state });
}

/** From a login form post to the client's redirect URI (through consent): the callback URL with the code. */
async function reachCallback(page: LoginPage, browser: Browser, form: Record<string, string>): Promise<URL> {
  let step = await browser.follow(page.action, { form }, REDIRECT_URI);
  for (let i = 0; i < 3 && step.res; i += 1) {
    const html = await step.res.text();
    if (step.res.status !== 200 || !/\/confirm"/.test(html)) throw new Error(`unexpected page ${step.res.status}: ${html.slice(0, 500)}`);
    const action = new URL(formAction(html, /\/confirm$/), step.url).toString();
    step = await browser.follow(action, { form: { csrf: hiddenInput(html, 'csrf') } }, REDIRECT_URI);
  }
  if (step.res) throw new Error('login did not reach the redirect URI');
  return new URL(step.url);
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; res: Response }> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, res };
}

function expectSecurityHeaders(res: Response): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('cache-control')).toContain('no-store');
}

describe('HTTP surface of a running server', SLOW, () => {
  let server: TestServer;
  let f: Fixture;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
  });
  afterAll(async () => server?.cleanup());

  it('GET /healthz answers 200 {status: ok}; /readyz 200', async () => {
    const health = await getJson(`${server.issuer}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.res.headers.get('cache-control')).toContain('no-store');
    const ready = await getJson(`${server.issuer}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });
  });

  it('unknown API paths answer 404 JSON {error: not_found}, even to a browser', async () => {
    for (const path of ['/token/nope', '/admin/api/x', '/.well-known/nope']) {
      for (const accept of ['application/json', 'text/html']) {
        const res = await fetch(`${server.issuer}${path}`, { headers: { accept } });
        expect(res.status, `${path} (${accept})`).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await res.json()).toMatchObject({ error: 'not_found' });
      }
    }
  });

  it('an unknown page for a browser answers a 404 HTML page', async () => {
    const res = await fetch(`${server.issuer}/no/such/page`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('Page not found');
    expectSecurityHeaders(res);
    const json = await fetch(`${server.issuer}/no/such/page`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(await json.json()).toMatchObject({ error: 'not_found' });
  });

  it('JSON responses carry the resource headers only; pages the document set as well', async () => {
    const json = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(json.headers.get('x-content-type-options')).toBe('nosniff');
    // Headers that only a rendered document uses stay off JSON (a token response would double).
    for (const name of ['x-frame-options', 'cross-origin-opener-policy', 'referrer-policy', 'x-xss-protection']) expect(json.headers.get(name), name).toBeNull();
    const page = await fetch(`${server.issuer}/`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self'");
  });

  it('the login page carries the security headers', async () => {
    const page = await openLoginPage(server, f, new Browser());
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('content-type')).toMatch(/^text\/html/);
    expectSecurityHeaders(page.res);
  });

  it('the login page works without JavaScript: a POST form with email, password and a hidden csrf; no script', async () => {
    const { html, action, uid } = await openLoginPage(server, f, new Browser());
    expect(html).toMatch(/<form[^>]*method="post"[^>]*action="\/interaction\/[^"]+\/login"/);
    expect(new URL(action).pathname).toBe(`/interaction/${uid}/login`);
    expect(html).toMatch(/<input[^>]*name="email"/);
    expect(html).toMatch(/<input[^>]*type="password"[^>]*name="password"|<input[^>]*name="password"[^>]*type="password"/);
    expect(html).toMatch(/<input[^>]*type="hidden"[^>]*name="csrf"[^>]*value="[^"]+"/);
    expect(html).toMatch(/<button[^>]*type="submit"/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i); // no inline event handlers
    expect(html).not.toMatch(/javascript:/i);
  });

  it('a login POST with a wrong or missing csrf answers 403 and does not consume the interaction', async () => {
    const browser = new Browser();
    const page = await openLoginPage(server, f, browser);
    const csrf = hiddenInput(page.html, 'csrf');

    const forms: Array<Record<string, string>> = [
      { csrf: 'wrong', email: f.email, password: f.password },
      { email: f.email, password: f.password },
      { csrf: '', email: f.email, password: f.password },
      { csrf: `${csrf}x`, email: f.email, password: f.password },
    ];
    for (const form of forms) {
      const res = await browser.request(page.action, { form });
      expect(res.status, JSON.stringify(Object.keys(form))).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toMatch(/expired/i);
    }

    // A token is bound to its interaction: another interaction's token is refused there.
    const other = await openLoginPage(server, f, browser);
    expect(other.uid).not.toBe(page.uid);
    const crossed = await browser.request(other.action, { form: { csrf, email: f.email, password: f.password } });
    expect(crossed.status).toBe(403);
    await crossed.arrayBuffer();

    // The page still renders, and the correct token still signs in and yields working tokens.
    const again = await browser.request(page.url);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('name="password"');
    const tokens = await finishLogin(page, browser, { csrf, email: f.email, password: f.password });
    expect(tokens.access_token).toBeTypeOf('string');
    expect(tokens.claims()?.sub).toBe(f.userId);
  });

  it('the consent and logout pages are script-free forms with the same headers', async () => {
    const browser = new Browser();
    const page = await openLoginPage(server, f, browser);
    const consent = await browser.follow(page.action, { form: { csrf: hiddenInput(page.html, 'csrf'), email: f.email, password: f.password } }, REDIRECT_URI);
    expect(consent.res?.status).toBe(200);
    const consentHtml = await consent.res!.text();
    expect(consentHtml).toMatch(/<form[^>]*method="post"[^>]*action="\/interaction\/[^"]+\/confirm"/);
    expect(consentHtml).toMatch(/<input[^>]*type="hidden"[^>]*name="csrf"/);
    expect(consentHtml).not.toMatch(/<script/i);
    expectSecurityHeaders(consent.res!);
    // Consent's csrf is checked too.
    const confirmAction = new URL(formAction(consentHtml, /\/confirm$/), consent.url).toString();
    const forged = await browser.request(confirmAction, { form: { csrf: 'forged' } });
    expect(forged.status).toBe(403);
    await forged.arrayBuffer();
    const done = await browser.follow(confirmAction, { form: { csrf: hiddenInput(consentHtml, 'csrf') } }, REDIRECT_URI);
    expect(done.res).toBeNull();
    const tokens = await oidc.authorizationCodeGrant(page.config, new URL(done.url), { pkceCodeVerifier: page.verifier, expectedState: page.state });

    const endSession = oidc.buildEndSessionUrl(page.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out' }).toString();
    const logoutPage = await browser.request(endSession);
    expect(logoutPage.status).toBe(200);
    const logoutHtml = await logoutPage.text();
    expect(logoutHtml).toMatch(/<form[^>]*method="post"[^>]*action="[^"]*\/logout\/confirm"/);
    expect(logoutHtml).toMatch(/<input[^>]*type="hidden"[^>]*name="xsrf"/);
    expect(logoutHtml).not.toMatch(/<script/i);
    expectSecurityHeaders(logoutPage);
  });

  it('a wrong password re-renders the form (401) and the interaction stays usable', async () => {
    const browser = new Browser();
    const page = await openLoginPage(server, f, browser);
    const wrong = await browser.request(page.action, { form: { csrf: hiddenInput(page.html, 'csrf'), email: f.email, password: 'not the password' } });
    expect(wrong.status).toBe(401);
    const html = await wrong.text();
    expect(html).toContain('Invalid e-mail or password');
    expect(html).not.toContain('not the password');
    const tokens = await finishLogin(page, browser, { csrf: hiddenInput(html, 'csrf'), email: f.email, password: f.password });
    expect(tokens.claims()?.sub).toBe(f.userId);
  });

  it('an unknown or expired interaction answers a readable 400 page', async () => {
    const browser = new Browser();
    const res = await browser.request(`${server.issuer}/interaction/doesnotexist`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/expired/);
    expect(html).not.toMatch(/SessionNotFound|at [\w.]+ \(|node_modules/);
    expectSecurityHeaders(res);

    const post = await browser.request(`${server.issuer}/interaction/doesnotexist/login`, { form: { csrf: 'x', email: f.email, password: f.password } });
    expect(post.status).toBe(400);
    expect(await post.text()).toMatch(/expired/);
  });

  it('discovery advertises introspection, revocation and end_session, and no client_secret_jwt', async () => {
    const { status, body } = await getJson(`${server.issuer}/.well-known/openid-configuration`);
    expect(status).toBe(200);
    expect(body.issuer).toBe(server.issuer);
    expect(body.introspection_endpoint).toBe(`${server.issuer}/token/introspection`);
    expect(body.revocation_endpoint).toBe(`${server.issuer}/token/revocation`);
    expect(body.end_session_endpoint).toBe(`${server.issuer}/logout`);
    expect(body.jwks_uri).toBe(`${server.issuer}/jwks`);
    expect(body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(body.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
    expect(body.introspection_endpoint_auth_methods_supported ?? []).not.toContain('client_secret_jwt');
    expect(body.revocation_endpoint_auth_methods_supported ?? []).not.toContain('client_secret_jwt');
    expect(body.id_token_signing_alg_values_supported).toContain('ES256');
  });

  it('/jwks publishes ES256 public keys only', async () => {
    const { status, body } = await getJson(`${server.issuer}/jwks`);
    expect(status).toBe(200);
    const keys = body.keys as JWK[];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => k.alg === 'ES256' && k.kty === 'EC' && k.crv === 'P-256' && typeof k.kid === 'string')).toBe(true);
    for (const k of keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k, `${k.kid}.${member}`).not.toHaveProperty(member);
    }
  });

  it('JWT access tokens are ES256 and verify against /jwks', async () => {
    const cc = await clientCredentials(server.issuer, f.rs, { resource: f.jwtApi, scope: 'read' });
    expect(cc.status, JSON.stringify(cc.body)).toBe(200);
    const token = String(cc.body.access_token);
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    const { body } = await getJson(`${server.issuer}/jwks`);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(body as { keys: JWK[] }), { issuer: server.issuer, audience: f.jwtApi, typ: 'at+jwt' });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.client_id).toBe(f.rs.clientId);
  });

  it('never logs secrets: tokens, client secrets and passwords stay out of the output', async () => {
    const config = await discover(server, f.web);
    const browser = new Browser();

    // A failed attempt first: the wrong password must not be logged either.
    const page = await openLoginPage(server, f, browser);
    const wrongPassword = 'Wr0ng-Pa55word-For-Log-Check';
    const failed = await browser.request(page.action, { form: { csrf: hiddenInput(page.html, 'csrf'), email: f.email, password: wrongPassword } });
    expect(failed.status).toBe(401);
    const retry = await failed.text();
    const callback = await reachCallback(page, browser, { csrf: hiddenInput(retry, 'csrf'), email: f.email, password: f.password });
    const code = callback.searchParams.get('code');
    const first = await oidc.authorizationCodeGrant(page.config, callback, { pkceCodeVerifier: page.verifier, expectedState: page.state });

    const tokens = await login(config, browser, f, { scope: 'openid email offline_access' });
    const jwt = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    expect(tokens.refresh_token).toBeTypeOf('string');
    const refreshed = await refresh(config, tokens.refresh_token!);
    expect(refreshed.error).toBeUndefined();
    expect(await introspect(server, f.rs, jwt.access_token)).toMatchObject({ active: true });
    const cookies = (await browser.jar.getCookies(server.issuer)).map((c) => c.value).filter((v) => v.length >= 16);
    const out = await logout(config, browser, { idToken: tokens.id_token });
    expect(out.status).toBe(303);
    // A client's own revocation and a bad client secret also go through the logs.
    const revoke = await fetch(`${server.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${f.web.clientId}:${f.web.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: refreshed.tokens!.refresh_token! }),
    });
    expect(revoke.status).toBe(200);
    const badSecret = await clientCredentials(server.issuer, { clientId: f.rs.clientId, clientSecret: 'Bad-Client-Secret-For-Log-Check' });
    expect(badSecret.status).toBe(401);

    const output = server.output();
    expect(output).toContain('"event":"login.succeeded"'); // the flow did log
    const secrets: Record<string, string | undefined> = {
      password: f.password,
      wrongPassword,
      authorizationCode: code ?? undefined,
      firstAccessToken: first.access_token,
      webClientSecret: f.web.clientSecret,
      rsClientSecret: f.rs.clientSecret,
      badClientSecret: 'Bad-Client-Secret-For-Log-Check',
      accessToken: tokens.access_token,
      idToken: tokens.id_token,
      refreshToken: tokens.refresh_token,
      jwtAccessToken: jwt.access_token,
      refreshedAccessToken: refreshed.tokens?.access_token,
      refreshedRefreshToken: refreshed.tokens?.refresh_token,
    };
    cookies.forEach((value, i) => (secrets[`cookie${i}`] = value));
    for (const [name, value] of Object.entries(secrets)) {
      expect(value, name).toBeTruthy();
      expect(output.includes(value!), `${name} appears in the server output`).toBe(false);
    }
  });
});

describe('SIGNING_ALG=EdDSA', SLOW, () => {
  let server: TestServer;
  let f: Fixture;

  beforeAll(async () => {
    server = await startServer({ SIGNING_ALG: 'EdDSA' });
    f = await seed(server);
  });
  afterAll(async () => server?.cleanup());

  it('publishes an Ed25519 key and its JWT access tokens verify', async () => {
    const { body } = await getJson(`${server.issuer}/jwks`);
    const keys = body.keys as JWK[];
    const ed = keys.find((k) => k.kty === 'OKP' && k.crv === 'Ed25519');
    expect(ed, JSON.stringify(keys)).toBeDefined();
    expect(['EdDSA', 'Ed25519']).toContain(ed!.alg);
    expect(ed).not.toHaveProperty('d');

    const cc = await clientCredentials(server.issuer, f.rs, { resource: f.jwtApi, scope: 'read' });
    expect(cc.status, JSON.stringify(cc.body)).toBe(200);
    const token = String(cc.body.access_token);
    const header = decodeProtectedHeader(token);
    expect(['EdDSA', 'Ed25519']).toContain(header.alg);
    expect(header.kid).toBe(ed!.kid);
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys }), { issuer: server.issuer, audience: f.jwtApi, typ: 'at+jwt' });
    expect(payload.client_id).toBe(f.rs.clientId);
    expect(await introspect(server, f.rs, token)).toMatchObject({ active: true, client_id: f.rs.clientId, aud: f.jwtApi });

    // A user's JWT access token and ID token, through the browser flow, are EdDSA too.
    const config = await discover(server, f.web);
    const tokens = await login(config, new Browser(), f, { scope: 'openid read', resource: f.jwtApi });
    expect(['EdDSA', 'Ed25519']).toContain(decodeProtectedHeader(tokens.access_token).alg);
    await expect(jwtVerify(tokens.access_token, createLocalJWKSet({ keys }), { issuer: server.issuer, audience: f.jwtApi })).resolves.toBeDefined();
    expect(['EdDSA', 'Ed25519']).toContain(decodeProtectedHeader(tokens.id_token!).alg);
    await expect(jwtVerify(tokens.id_token!, createLocalJWKSet({ keys }), { issuer: server.issuer, audience: f.web.clientId })).resolves.toBeDefined();
  });
});

describe('keys persist across a restart', SLOW, () => {
  let dir: string;
  let env: Record<string, string>;
  let issuer: string;
  let first: TestServer | undefined;
  let second: TestServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-restart-'));
    // Same port and issuer on both starts: a restart, not a new deployment.
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    env = { PORT: String(port), ISSUER: issuer };
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  /** Stops whichever server of this suite is running (a failed test may leave one up). */
  const stopAll = async (): Promise<void> => {
    await first?.stop();
    await second?.stop();
    first = undefined;
    second = undefined;
  };

  it('same kid after restart; a JWT issued before still introspects active', async () => {
    first = await startServer(env, { dir });
    const f = await seed(first);
    const at = { issuer } as TestServer;
    const before = (await getJson(`${issuer}/jwks`)).body.keys as JWK[];
    expect(before.length).toBeGreaterThan(0);
    const kid = before[0]!.kid;

    const cc = await clientCredentials(issuer, f.rs, { resource: f.jwtApi, scope: 'read' });
    expect(cc.status, JSON.stringify(cc.body)).toBe(200);
    const ccJwt = String(cc.body.access_token);
    const config = await discover(at, f.web);
    const userTokens = await login(config, new Browser(), f, { scope: 'openid read', resource: f.jwtApi });
    expect(await introspect(at, f.rs, ccJwt)).toMatchObject({ active: true });
    expect(await introspect(at, f.rs, userTokens.access_token)).toMatchObject({ active: true, sub: f.userId });

    expect(await first.stop()).toBe(0);
    second = await startServer(env, { dir });

    const after = (await getJson(`${issuer}/jwks`)).body.keys as JWK[];
    expect(after.map((k) => k.kid)).toContain(kid);
    expect(after.map((k) => k.kid).sort()).toEqual(before.map((k) => k.kid).sort()); // no new key generated
    expect(decodeProtectedHeader(ccJwt).kid).toBe(kid);
    await expect(jwtVerify(ccJwt, createLocalJWKSet({ keys: after }), { issuer, audience: f.jwtApi })).resolves.toBeDefined();
    expect(await introspect(at, f.rs, ccJwt)).toMatchObject({ active: true, client_id: f.rs.clientId });
    expect(await introspect(at, f.rs, userTokens.access_token)).toMatchObject({ active: true, sub: f.userId });
    // Client secrets (HMAC under a server key kept in the database) still work too.
    expect((await clientCredentials(issuer, f.rs)).status).toBe(200);
  });

  it('cookie keys persist: a browser signed in before a restart stays signed in after it', async () => {
    await stopAll();
    first = await startServer(env, { dir });
    const at = { issuer } as TestServer;
    const f = { email: 'alice@example.com', password: 'correct horse battery' };
    const clients = (await cli(first, ['client', 'list'])).json<Array<{ client_id: string; client_name?: string }>>();
    const webId = clients.find((c) => c.client_name === 'Web App')!.client_id;
    const rotated = (await cli(first, ['client', 'rotate-secret', webId])).json<{ client_secret: string }>();
    const web = { clientId: webId, clientSecret: rotated.client_secret };
    const browser = new Browser();
    const before = await login(await discover(at, web), browser, f, { scope: 'openid email' });
    expect(before.claims?.sub).toBeTypeOf('string');

    expect(await first.stop()).toBe(0);
    second = await startServer(env, { dir });
    // A wrong password proves no login page was shown: the session cookie was still valid.
    const after = await login(await discover(at, web), browser, { email: f.email, password: 'not the password' }, { scope: 'openid email' });
    expect(after.claims?.sub).toBe(before.claims?.sub);
    expect(after.claims?.sid).toBe(before.claims?.sid);
  });

  it('changing SIGNING_ALG adds a key; tokens signed with the old one stay valid', async () => {
    await stopAll();
    first = await startServer(env, { dir });
    const rsList = (await cli(first, ['client', 'list'])).json<Array<{ client_id: string; client_name?: string }>>();
    const rsId = rsList.find((c) => c.client_name === 'Resource Server')!.client_id;
    const rsSecret = (await cli(first, ['client', 'rotate-secret', rsId])).json<{ client_secret: string }>().client_secret;
    const rs = { clientId: rsId, clientSecret: rsSecret };
    const old = await clientCredentials(issuer, rs, { resource: 'https://api.example.com', scope: 'read' });
    expect(old.status).toBe(200);
    const oldJwt = String(old.body.access_token);
    expect(decodeProtectedHeader(oldJwt).alg).toBe('ES256');
    expect(await first.stop()).toBe(0);

    second = await startServer({ ...env, SIGNING_ALG: 'EdDSA' }, { dir });
    const keys = (await getJson(`${issuer}/jwks`)).body.keys as JWK[];
    expect(keys.some((k) => k.alg === 'ES256')).toBe(true);
    expect(keys.some((k) => k.crv === 'Ed25519')).toBe(true);
    const fresh = await clientCredentials(issuer, rs, { resource: 'https://api.example.com', scope: 'read' });
    expect(fresh.status).toBe(200);
    expect(['EdDSA', 'Ed25519']).toContain(decodeProtectedHeader(String(fresh.body.access_token)).alg);
    const at = { issuer } as TestServer;
    expect(await introspect(at, rs, oldJwt)).toMatchObject({ active: true });
    expect(await introspect(at, rs, String(fresh.body.access_token))).toMatchObject({ active: true });
  });
});

describe('process lifecycle', SLOW, () => {
  it('SIGTERM shuts down gracefully: exit code 0 and a "stopped" event', async () => {
    const server = await startServer();
    try {
      expect((await getJson(`${server.issuer}/healthz`)).status).toBe(200);
      const code = await server.stop('SIGTERM');
      expect(code, server.output()).toBe(0);
      expect(server.output()).toContain('"event":"shutdown"');
      expect(server.output()).toContain('"event":"stopped"');
      await expect(fetch(`${server.issuer}/healthz`)).rejects.toThrow();
    } finally {
      await server.cleanup();
    }
  });

  // An orchestrator may stop a server as soon as it reports ready: the signal must never find it
  // without its handlers. A few cycles each, since the window is a matter of scheduling.
  it.each(['SIGTERM', 'SIGINT'] as const)('%s right after "listening" still shuts down gracefully', async (signal) => {
    for (let i = 0; i < 4; i += 1) {
      const server = await startServer();
      try {
        const code = await server.stop(signal);
        expect(code, `cycle ${i}: ${server.output()}`).toBe(0);
        expect(server.output()).toContain('"event":"stopped"');
      } finally {
        await server.cleanup();
      }
    }
  });

  it.each([
    ['ISSUER', 'not-a-url'],
    ['SIGNING_ALG', 'HS256'],
    ['PORT', 'abc'],
    ['COOKIE_KEYS', 'too-short'],
  ])('fails fast on %s=%s: non-zero exit, stderr names the variable, nothing created', async (name, value) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-badconfig-'));
    try {
      const result = await runMain({ ...FAST_ARGON2, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${join(dir, 'x.db')}`, NODE_ENV: 'production', [name]: value }, dir);
      expect(result.signal, 'the server had to be killed: it did not fail fast').toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(name);
      expect(result.stdout).not.toContain('"event":"listening"');
      expect(existsSync(join(dir, 'x.db'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
