import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { loginWith, refreshWith } from '../support/flows.js';
import { discover, introspect, login, logout, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

describe('refresh tokens', () => {
  let server: TestServer;
  let f: Fixture;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
  });
  afterAll(async () => server?.cleanup());

  it('rotate on every use: each refresh returns a new refresh token and the used one is spent', async () => {
    const config = await discover(server, f.web);
    const tokens = await login(config, new Browser(), f);
    const rt1 = tokens.refresh_token!;
    expect(rt1).toBeTruthy();

    const r1 = await refreshWith(config, rt1);
    expect(r1.error).toBeUndefined();
    const rt2 = r1.tokens!.refresh_token!;
    expect(rt2).toBeTruthy();
    expect(rt2).not.toBe(rt1);
    expect(r1.tokens!.access_token).not.toBe(tokens.access_token);

    const r2 = await refreshWith(config, rt2);
    expect(r2.error).toBeUndefined();
    const rt3 = r2.tokens!.refresh_token!;
    expect(rt3).toBeTruthy();
    expect(rt3).not.toBe(rt2);
    expect(rt3).not.toBe(rt1);

    // A rotated refresh token is no longer active, the newest one is.
    expect(await introspect(server, f.rs, rt1, 'refresh_token')).toEqual({ active: false });
    expect(await introspect(server, f.rs, rt2, 'refresh_token')).toEqual({ active: false });
    expect(await introspect(server, f.rs, rt3, 'refresh_token')).toMatchObject({ active: true, token_type: 'refresh_token', client_id: f.web.clientId, sub: f.userId });

    // The spent one answers invalid_grant.
    expect((await refreshWith(config, rt2)).error).toBe('invalid_grant');
  });

  it('reuse detection: replaying a rotated refresh token kills the whole family', async () => {
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await login(config, browser, f);
    const rt1 = tokens.refresh_token!;

    const r1 = await refreshWith(config, rt1);
    const rt2 = r1.tokens!.refresh_token!;
    const r2 = await refreshWith(config, rt2);
    const rt3 = r2.tokens!.refresh_token!;
    const accessTokens = [tokens.access_token, r1.tokens!.access_token, r2.tokens!.access_token];
    for (const at of accessTokens) {
      expect(await introspect(server, f.rs, at)).toMatchObject({ active: true });
    }
    expect(await introspect(server, f.rs, rt3)).toMatchObject({ active: true });
    expect(await userinfoStatus(server, r2.tokens!.access_token)).toBe(200);

    // Replay of RT1 (already rotated twice).
    expect((await refreshWith(config, rt1)).error).toBe('invalid_grant');

    // The newest refresh token of the family is dead…
    expect(await introspect(server, f.rs, rt3, 'refresh_token')).toEqual({ active: false });
    expect((await refreshWith(config, rt3)).error).toBe('invalid_grant');
    // …and so are the family's access tokens.
    for (const at of accessTokens) {
      expect(await introspect(server, f.rs, at)).toEqual({ active: false });
    }
    expect(await userinfoStatus(server, r2.tokens!.access_token)).toBe(401);
  });

  it('reuse detection also kills JWT access tokens of the family (replay of the middle token)', async () => {
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    expect(tokens.access_token.split('.')).toHaveLength(3);
    const r1 = await refreshWith(config, tokens.refresh_token!, { resource: f.jwtApi });
    const rt2 = r1.tokens!.refresh_token!;
    const r2 = await refreshWith(config, rt2, { resource: f.jwtApi });
    const rt3 = r2.tokens!.refresh_token!;
    const jwts = [tokens.access_token, r1.tokens!.access_token, r2.tokens!.access_token];
    for (const at of jwts) {
      expect(at.split('.')).toHaveLength(3);
      expect(await introspect(server, f.rs, at)).toMatchObject({ active: true, aud: f.jwtApi });
    }

    expect((await refreshWith(config, rt2, { resource: f.jwtApi })).error).toBe('invalid_grant');

    expect((await refreshWith(config, rt3, { resource: f.jwtApi })).error).toBe('invalid_grant');
    expect(await introspect(server, f.rs, rt3)).toEqual({ active: false });
    for (const at of jwts) {
      expect(await introspect(server, f.rs, at)).toEqual({ active: false });
    }
  });

  it('a client without offline_access still gets a refresh token, bound to the browser session', async () => {
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await loginWith(config, browser, f, { scope: 'openid email' });
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');
    expect(tokens.refresh_token).toBeTruthy();
    const rt = await introspect(server, f.rs, tokens.refresh_token!);
    expect(rt).toMatchObject({ active: true, token_type: 'refresh_token' });
    expect(String(rt.scope).split(' ')).not.toContain('offline_access');

    // It works while the session lives (and rotates)…
    const r1 = await refreshWith(config, tokens.refresh_token!);
    expect(r1.error).toBeUndefined();
    const current = r1.tokens!.refresh_token!;

    const out = await logout(config, browser, { idToken: tokens.id_token });
    expect(out.status).toBe(303);

    // …and dies with it.
    expect((await refreshWith(config, current)).error).toBe('invalid_grant');
    expect(await introspect(server, f.rs, current)).toEqual({ active: false });
    expect(await introspect(server, f.rs, r1.tokens!.access_token)).toEqual({ active: false });
  });

  it('a JWT access token obtained by refresh (with resource) introspects active with the right aud', async () => {
    const config = await discover(server, f.web);
    const tokens = await login(config, new Browser(), f, { scope: 'openid read', resource: f.jwtApi });
    const r = await refreshWith(config, tokens.refresh_token!, { resource: f.jwtApi });
    expect(r.error).toBeUndefined();
    const at = r.tokens!.access_token;
    expect(at.split('.')).toHaveLength(3);
    expect(at).not.toBe(tokens.access_token);
    const status = await introspect(server, f.rs, at);
    expect(status).toMatchObject({
      active: true,
      aud: f.jwtApi,
      client_id: f.web.clientId,
      sub: f.userId,
      iss: server.issuer,
      scope: 'read',
      token_type: 'Bearer',
    });
    expect(status.sid).toBeTypeOf('string');
    // The opaque API too: its format is the API's choice, on refresh as well.
    const opaque = await login(config, new Browser(), f, { scope: 'openid read', resource: f.opaqueApi });
    const r2 = await refreshWith(config, opaque.refresh_token!, { resource: f.opaqueApi });
    expect(r2.error).toBeUndefined();
    expect(r2.tokens!.access_token.split('.')).toHaveLength(1);
    expect(await introspect(server, f.rs, r2.tokens!.access_token)).toMatchObject({ active: true, aud: f.opaqueApi, scope: 'read' });
  });
});
