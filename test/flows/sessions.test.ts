import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { createUser, createWebClient, firstPage, loginWith, refreshWith } from '../support/flows.js';
import { discover, introspect, login, logout, POST_LOGOUT_URI, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';
import { expectTokensAlive, expectTokensDead } from '../support/session-tokens.js';

interface SessionTokens {
  browser: Browser;
  idToken: string;
  /** Opaque, for userinfo. */
  userinfo: string;
  jwt: string;
  refresh: string[];
}

describe('sessions: sign out here, everywhere, or stay signed in', () => {
  let server: TestServer;
  let f: Fixture;
  let config: oidc.Configuration;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    config = await discover(server, f.web);
  });
  afterAll(async () => server?.cleanup());

  /** One browser session of `user`: a userinfo token and a JWT for the API, each with its refresh token. */
  async function session(user: { email: string; password: string }): Promise<SessionTokens> {
    const browser = new Browser();
    const ui = await login(config, browser, user, { scope: 'openid email' });
    const api = await login(config, browser, user, { scope: 'openid read', resource: f.jwtApi });
    expect(api.access_token.split('.')).toHaveLength(3);
    return { browser, idToken: ui.id_token!, userinfo: ui.access_token, jwt: api.access_token, refresh: [ui.refresh_token!, api.refresh_token!] };
  }

  const expectAlive = (s: SessionTokens) => expectTokensAlive(server, f, s);
  const expectDead = (s: SessionTokens) => expectTokensDead(server, f, config, s);

  it('"sign out everywhere" in one browser kills the tokens and the session of every browser', async () => {
    const user = await createUser(server, 'everywhere@example.com', 'everywhere password 1');
    const a = await session(user);
    const b = await session(user);
    await expectAlive(a);
    await expectAlive(b);
    // Before: B is signed in (silent SSO back to the client, no login page).
    expect(await firstPage(config, b.browser)).toHaveProperty('redirected');

    const out = await logout(config, a.browser, { idToken: a.idToken, everywhere: true });
    expect(out.status).toBe(303);
    expect(out.location).toContain(POST_LOGOUT_URI);

    await expectDead(a);
    await expectDead(b);
    // B's next authorization request asks for the password again.
    const page = await firstPage(config, b.browser);
    expect(page).not.toHaveProperty('redirected');
    expect((page as { html: string }).html).toContain('name="password"');
  });

  it('plain sign out in one browser kills only that browser\'s tokens', async () => {
    const user = await createUser(server, 'plain@example.com', 'plain password 12');
    const a = await session(user);
    const b = await session(user);

    const out = await logout(config, a.browser, { idToken: a.idToken });
    expect(out.status).toBe(303);

    await expectDead(a);
    await expectAlive(b);
    // B's refresh tokens still work and B is still signed in.
    const r = await refreshWith(config, b.refresh[0]!);
    expect(r.error).toBeUndefined();
    expect(r.tokens?.refresh_token).toBeTruthy();
    expect(await firstPage(config, b.browser)).toHaveProperty('redirected');
    // A is not.
    expect((await firstPage(config, a.browser) as { html: string }).html).toContain('name="password"');
  });

  it('"stay signed in" signs out of the asking client only: its grant is revoked, the session and other clients live on', async () => {
    const user = await createUser(server, 'stay@example.com', 'stay password 123');
    const other = await createWebClient(server, 'Other App');
    const otherConfig = await discover(server, other);
    const s = await session(user);
    const o = await login(otherConfig, s.browser, user, { scope: 'openid email' });
    await expectAlive(s);
    expect(await introspect(server, f.rs, o.access_token)).toMatchObject({ active: true, client_id: other.clientId });

    const out = await logout(config, s.browser, { idToken: s.idToken, stay: true });
    expect(out.status).toBe(303);
    expect(out.location).toContain(POST_LOGOUT_URI);

    // The web client's grant is gone: all its tokens, opaque and JWT, access and refresh.
    await expectDead(s);
    // The other client's tokens live on.
    expect(await introspect(server, f.rs, o.access_token)).toMatchObject({ active: true, client_id: other.clientId });
    expect(await userinfoStatus(server, o.access_token)).toBe(200);
    const r = await refreshWith(otherConfig, o.refresh_token!);
    expect(r.error).toBeUndefined();
    // The browser session lives on: no password asked, neither for the other client…
    expect(await firstPage(otherConfig, s.browser)).toHaveProperty('redirected');
    // …nor for the web client, which only needs consent again (its grant was revoked).
    const again = await firstPage(config, s.browser);
    expect(again).not.toHaveProperty('redirected');
    expect((again as { html: string }).html).not.toContain('name="password"');
    expect((again as { html: string }).html).toMatch(/\/confirm"/);
  });

  it('"stay signed in" also revokes the asking client\'s offline_access grant (default policy)', async () => {
    const user = await createUser(server, 'stay-offline@example.com', 'stay offline password');
    const browser = new Browser();
    const t = await loginWith(config, browser, user, { scope: 'openid email offline_access', prompt: 'consent' });
    expect(t.scope?.split(' ')).toContain('offline_access');
    expect(await introspect(server, f.rs, t.refresh_token!)).toMatchObject({ active: true });

    const out = await logout(config, browser, { idToken: t.id_token, stay: true });
    expect(out.status).toBe(303);

    // oidc-provider alone would keep an offline_access grant; Tessera revokes what the client lost.
    expect(await introspect(server, f.rs, t.refresh_token!)).toEqual({ active: false });
    expect((await refreshWith(config, t.refresh_token!)).error).toBe('invalid_grant');
    expect(await introspect(server, f.rs, t.access_token)).toEqual({ active: false });
    expect(await userinfoStatus(server, t.access_token)).toBe(401);
  });

  it('records the user\'s last logout', async () => {
    const user = await createUser(server, 'lastlogout@example.com', 'last logout password');
    const before = (await cli(server, ['user', 'show', user.email])).json<{ lastLogoutAt: string | null; lastLoginAt: string | null }>();
    expect(before.lastLogoutAt).toBeNull();
    const s = await session(user);
    const started = Date.now();
    const out = await logout(config, s.browser, { idToken: s.idToken });
    expect(out.status).toBe(303);
    const shown = await cli(server, ['user', 'show', user.email]);
    expect(shown.code).toBe(0);
    const after = shown.json<{ lastLogoutAt: string | null; lastLoginAt: string | null }>();
    expect(after.lastLoginAt).not.toBeNull();
    expect(after.lastLogoutAt).not.toBeNull();
    expect(Date.parse(after.lastLogoutAt!)).toBeGreaterThanOrEqual(started - 1000);
    expect(Date.parse(after.lastLogoutAt!)).toBeLessThanOrEqual(Date.now() + 1000);
  });
});
