import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashIdentifier } from '../../src/hash.js';
import { Browser, formAction, hiddenInput } from '../support/browser.js';
import { basic, clientCredentialsToken, INTROSPECTION, post } from '../support/protocol.js';
import { cookieSignature, RecordingBrowser } from '../support/recording-browser.js';
import { discover, introspect, login, REDIRECT_URI, refresh, seed, userinfoStatus, type Fixture, type Tokens } from '../support/rp.js';
import { dumpTextValues, jsonStringLeaves, type StoredValue } from '../support/database.js';
import { startServer, type TestServer } from '../support/server.js';

const MAX_CANDIDATES = 400;
const MIN_LENGTH = 16;

/** Runs `fn` over `items`, `limit` at a time. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/** A header-safe (printable ASCII) value, and one that can sit in a Cookie header unquoted. */
const headerSafe = (v: string): boolean => /^[\x21-\x7E]+$/.test(v);
const cookieSafe = (v: string): boolean => /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/.test(v);

describe('the database holds no usable token', () => {
  let server: TestServer;
  let f: Fixture;
  let web: oidc.Configuration;
  let victim: RecordingBrowser;
  /** Every credential the flow produced, by a label saying what it is. */
  const secrets = new Map<string, string>();
  let stored: StoredValue[];
  let candidates: string[];
  /** Where each candidate was found (table.column), for failure messages. */
  const origin = new Map<string, string>();
  const from = (v: string): string => `${v.slice(0, 60)} [${origin.get(v) ?? '?'}]`;
  let cookieKeys: string[];

  /** Starts a sign-in and stops at the login page; optionally submits the password but does not follow the resume redirect. */
  async function pendingSignIn(browser: RecordingBrowser, submitPassword: boolean): Promise<void> {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(web, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    }).toString();
    const step = await browser.follow(url, {}, REDIRECT_URI);
    const html = await step.res!.text();
    expect(html).toContain('name="password"');
    if (!submitPassword) return;
    const action = new URL(formAction(html, /\/login$/), step.url).toString();
    const res = await browser.request(action, { form: { csrf: hiddenInput(html, 'csrf'), email: f.email, password: f.password } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/auth\//);
  }

  function addToken(label: string, token: string | undefined): void {
    if (!token) return;
    secrets.set(label, token);
    const parts = token.split('.');
    if (parts.length === 3) secrets.set(`${label} (signature)`, parts[2]!);
  }

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    web = await discover(server, f.web);

    // The full flow: JWT and opaque API tokens, userinfo tokens, offline_access, a refresh.
    victim = new RecordingBrowser();
    const jwt = await login(web, victim, f, { scope: 'openid email offline_access read', resource: f.jwtApi });
    const opaque = await login(web, victim, f, { scope: 'openid email offline_access read', resource: f.opaqueApi });
    const userinfo = await login(web, victim, f, { scope: 'openid email offline_access' });
    const refreshed = await refresh(web, opaque.refresh_token!);
    expect(refreshed.error).toBeUndefined();
    const rsConfig = await discover(server, f.rs);
    const ccJwt = await clientCredentialsToken(rsConfig, f.jwtApi, 'read');
    const ccOpaque = await clientCredentialsToken(rsConfig, f.opaqueApi, 'read');

    // Sign-ins in progress: one at the login page, one signed in but not yet resumed.
    const atLoginPage = new RecordingBrowser();
    await pendingSignIn(atLoginPage, false);
    const beforeResume = new RecordingBrowser();
    await pendingSignIn(beforeResume, true);

    const all: [string, Tokens][] = [['jwt', jwt], ['opaque', opaque], ['userinfo', userinfo], ['refreshed', refreshed.tokens!]];
    for (const [name, t] of all) {
      addToken(`${name} access token`, t.access_token);
      addToken(`${name} refresh token`, t.refresh_token);
      addToken(`${name} id token`, t.id_token);
    }
    addToken('client_credentials JWT', ccJwt);
    addToken('client_credentials opaque', ccOpaque);
    for (const [name, browser] of [['victim', victim], ['at login page', atLoginPage], ['before resume', beforeResume]] as const) {
      for (const location of browser.locations) {
        const u = new URL(location);
        const code = u.searchParams.get('code');
        if (location.startsWith(REDIRECT_URI) && code) secrets.set(`authorization code (${name})`, code);
      }
      for (const [cookie, values] of await browser.allCookieValues(server.issuer)) {
        let i = 0;
        for (const value of values) if (value.length >= MIN_LENGTH) secrets.set(`cookie ${cookie} #${i++} (${name})`, value);
      }
    }
    secrets.set('web client secret', f.web.clientSecret);
    secrets.set('rs client secret', f.rs.clientSecret);
    secrets.set('user password', f.password);

    stored = await dumpTextValues(server.databaseUrl);
    // What a reader of the database also has: the cookie signing keys (ServerSecret, purpose "cookie").
    const cookieRows = new Set(stored.filter((s) => s.table === 'ServerSecret' && s.column === 'purpose' && s.value === 'cookie').map((s) => s.row));
    cookieKeys = stored.filter((s) => s.table === 'ServerSecret' && s.column === 'secret' && cookieRows.has(s.row)).map((s) => s.value);

    // Candidates: every stored value, every JSON string leaf, every token-like run of characters.
    const values = new Set<string>();
    const leaves = new Set<string>();
    const runs = new Set<string>();
    for (const { table, column, value } of stored) {
      const where = `${table}.${column}`;
      values.add(value);
      if (!origin.has(value)) origin.set(value, where);
      for (const leaf of jsonStringLeaves(value)) {
        leaves.add(leaf);
        if (!origin.has(leaf)) origin.set(leaf, `${where} (JSON)`);
      }
      for (const run of value.match(/[A-Za-z0-9_-]{16,}/g) ?? []) {
        runs.add(run);
        if (!origin.has(run)) origin.set(run, `${where} (inside)`);
      }
    }
    candidates = [...new Set([...values, ...leaves, ...runs])].filter((v) => v.length >= MIN_LENGTH).slice(0, MAX_CANDIDATES);
  }, 60_000);
  afterAll(async () => server?.cleanup());

  it('controls: the flow produced the credentials, and they work', async () => {
    expect(secrets.size).toBeGreaterThan(20);
    const labels = [...secrets.keys()].join('\n');
    expect(labels).toMatch(/authorization code/);
    expect(labels).toMatch(/cookie _session #/);
    expect(labels).toMatch(/cookie _session\.sig/);
    expect(labels).toMatch(/cookie _interaction #/);
    expect(labels).toMatch(/cookie _interaction_resume #/);
    expect(await introspect(server, f.rs, secrets.get('jwt access token')!)).toMatchObject({ active: true });
    expect(await introspect(server, f.rs, secrets.get('client_credentials opaque')!)).toMatchObject({ active: true });
    expect(await userinfoStatus(server, secrets.get('userinfo access token')!)).toBe(200);
    // The victim's own session cookie shows the signed-in user on the logout page…
    const page = await victim.request(`${server.issuer}/logout`);
    expect(await page.text()).toContain(f.email);
    // …and a signature computed with the stored cookie key is the one the server issued.
    expect(cookieKeys.length).toBeGreaterThan(0);
    const sessionCookies = (await victim.jar.getCookies(server.issuer)).filter((c) => c.key === '_session' || c.key === '_session.sig');
    const value = sessionCookies.find((c) => c.key === '_session')!.value;
    expect(cookieSignature('_session', value, cookieKeys[0]!)).toBe(sessionCookies.find((c) => c.key === '_session.sig')!.value);
    expect(stored.length).toBeGreaterThan(50);
    expect(candidates.length).toBeGreaterThan(20);
  });

  it('tokens, codes and grants have time-ordered ids; their rows are keyed by the time prefix and a hash', async () => {
    const TIME_ORDERED = /^[0-9a-f]{12}~[A-Za-z0-9_-]{20,}$/;
    const storedIn = (table: string, column: string) => new Set(stored.filter((s) => s.table === table && s.column === column).map((s) => s.value));
    const opaque: [string, string][] = [
      ['opaque access token', 'OidcAccessToken'],
      ['opaque refresh token', 'OidcRefreshToken'],
      ['refreshed refresh token', 'OidcRefreshToken'],
      ['client_credentials opaque', 'OidcClientCredentials'],
    ];
    for (const [label, table] of opaque) {
      const token = secrets.get(label)!;
      expect(token, label).toMatch(TIME_ORDERED);
      const key = hashIdentifier(token);
      expect(key.startsWith(token.slice(0, 12)) && !key.includes(token.slice(13))).toBe(true);
      expect(storedIn(table, 'id').has(key), `${label} keyed in ${table}`).toBe(true);
    }
    const issuedAt = Number.parseInt(secrets.get('client_credentials opaque')!.slice(0, 12), 16);
    expect(Math.abs(issuedAt - Date.now())).toBeLessThan(5 * 60_000);
    const { jti } = decodeJwt(secrets.get('client_credentials JWT')!);
    expect(jti).toMatch(TIME_ORDERED);
    expect(storedIn('JwtAccessToken', 'id').has(hashIdentifier(jti!))).toBe(true);
    const codes = [...secrets].filter(([label]) => label.startsWith('authorization code')).map(([, code]) => code);
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(TIME_ORDERED);
    const grantIds = storedIn('OidcGrant', 'grantId');
    expect(grantIds.size).toBeGreaterThan(0);
    for (const grantId of grantIds) {
      expect(grantId).toMatch(TIME_ORDERED);
      expect(storedIn('OidcGrant', 'id').has(hashIdentifier(grantId))).toBe(true);
    }
  });

  it('no issued credential appears in any stored value', async () => {
    const found: string[] = [];
    for (const [label, secret] of secrets) {
      for (const { table, column, value } of stored) {
        if (value.includes(secret)) found.push(`${label} in ${table}.${column}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the client secret is stored only as a keyed hash, which is no secret', async () => {
    const hashes = stored.filter((s) => s.table === 'Client' && s.column === 'secretHash');
    expect(hashes.length).toBeGreaterThanOrEqual(2);
    for (const { value } of hashes) {
      expect(value).not.toBe(f.web.clientSecret);
      expect(value).not.toBe(f.rs.clientSecret);
      expect(value).not.toContain(f.web.clientSecret);
      expect(value).not.toContain(f.rs.clientSecret);
      const res = await post(server, INTROSPECTION, { token: secrets.get('jwt access token')! }, { authorization: basic(f.rs.clientId, value) });
      expect(res.status).toBe(401);
    }
  });

  it('no stored string works as a bearer token, at introspection, or as a refresh token', async () => {
    const failures = (await mapLimit(candidates, 8, async (v) => {
      const out: string[] = [];
      if (headerSafe(v)) {
        const status = await userinfoStatus(server, v);
        if (status === 200) out.push(`/me accepted ${from(v)}`);
      }
      const intro = await post(server, INTROSPECTION, { token: v }, { authorization: basic(f.rs.clientId, f.rs.clientSecret) });
      if (intro.status !== 200 || JSON.stringify(intro.json) !== '{"active":false}') out.push(`introspection ${intro.status} ${intro.text.slice(0, 80)} for ${from(v)}`);
      const rt = await post(server, '/token', { grant_type: 'refresh_token', refresh_token: v }, { authorization: basic(f.web.clientId, f.web.clientSecret) });
      if (rt.status === 200) out.push(`refresh_token grant accepted ${from(v)}`);
      return out;
    })).flat();
    expect(failures).toEqual([]);
  }, 60_000);

  it('no stored string works as the _session cookie, unsigned or signed with the stored cookie keys', async () => {
    const usable = candidates.filter(cookieSafe);
    expect(usable.length).toBeGreaterThan(10);
    const failures = (await mapLimit(usable, 8, async (v) => {
      const out: string[] = [];
      const cookies = [`_session=${v}`, ...cookieKeys.map((k) => `_session=${v}; _session.sig=${cookieSignature('_session', v, k)}`)];
      for (const cookie of cookies) {
        const res = await fetch(`${server.issuer}/logout`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
        const html = await res.text();
        if (html.includes(f.email)) out.push(`signed in as the user with _session=${from(v)}${cookie.includes('.sig') ? ' (signed)' : ''}`);
      }
      return out;
    })).flat();
    expect(failures).toEqual([]);
  }, 60_000);

  it('no stored string resumes a sign-in in progress (forged _interaction_resume cookie)', async () => {
    const ids = candidates.filter((v) => /^[A-Za-z0-9_-]{16,64}$/.test(v));
    const failures = (await mapLimit(ids, 8, async (v) => {
      const attacker = new Browser();
      const sig = cookieSignature('_interaction_resume', v, cookieKeys[0]!);
      const res = await attacker.request(`${server.issuer}/auth/${v}`, { headers: { cookie: `_interaction_resume=${v}; _interaction_resume.sig=${sig}` } });
      await res.arrayBuffer();
      const location = res.headers.get('location') ?? '';
      const page = await attacker.request(`${server.issuer}/logout`);
      const html = await page.text();
      return html.includes(f.email) || (location.startsWith(REDIRECT_URI) && location.includes('code='))
        ? [`signed in as the user by resuming /auth/${from(v)} (→ ${location.slice(0, 60)})`]
        : [];
    })).flat();
    expect(failures).toEqual([]);
  }, 60_000);

  it('control: the real resume cookie of a sign-in in progress does resume it (the check above can fail)', async () => {
    const browser = new RecordingBrowser();
    await pendingSignIn(browser, true);
    const cookies = await browser.allCookieValues(server.issuer);
    const uid = [...(cookies.get('_interaction_resume') ?? [])][0]!;
    const attacker = new Browser();
    const sig = cookieSignature('_interaction_resume', uid, cookieKeys[0]!);
    const res = await attacker.request(`${server.issuer}/auth/${uid}`, { headers: { cookie: `_interaction_resume=${uid}; _interaction_resume.sig=${sig}` } });
    await res.arrayBuffer();
    expect(res.status).toBe(303);
    const page = await attacker.request(`${server.issuer}/logout`);
    expect(await page.text()).toContain(f.email);
  });
});
