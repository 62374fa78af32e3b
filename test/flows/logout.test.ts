import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { discover, introspect, login, logout, refresh, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

describe('logout really logs out', () => {
  let server: TestServer;
  let f: Fixture;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
  });
  afterAll(async () => server?.cleanup());

  it('code + PKCE login gives working tokens; logout kills every one of them at the next request', async () => {
    const config = await discover(server, f.web);
    const browser = new Browser();
    const userinfoTokens = await login(config, browser, f, { scope: 'openid email offline_access' });
    expect(userinfoTokens.claims?.sub).toBe(f.userId);
    expect(userinfoTokens.refresh_token).toBeTruthy();
    expect((await introspect(server, f.rs, userinfoTokens.refresh_token!)).scope).toContain('offline_access');
    // Same browser session, second authorization: an access token for the JWT API.
    const jwtTokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    expect(jwtTokens.access_token.split('.')).toHaveLength(3);
    const opaqueTokens = await login(config, browser, f, { scope: 'openid read', resource: f.opaqueApi });
    expect(opaqueTokens.access_token.split('.')).toHaveLength(1);

    expect(await userinfoStatus(server, userinfoTokens.access_token)).toBe(200);
    const jwtActive = await introspect(server, f.rs, jwtTokens.access_token);
    expect(jwtActive).toMatchObject({ active: true, client_id: f.web.clientId, sub: f.userId, aud: f.jwtApi, iss: server.issuer, token_type: 'Bearer' });
    expect(jwtActive.jti).toBeTypeOf('string');
    expect(jwtActive.sid).toBeTypeOf('string');
    expect(await introspect(server, f.rs, opaqueTokens.access_token)).toMatchObject({ active: true, aud: f.opaqueApi, scope: 'read' });
    expect(await introspect(server, f.rs, userinfoTokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });

    const out = await logout(config, browser, { idToken: userinfoTokens.id_token });
    expect(out.status).toBe(303);
    expect(out.location).toContain('/signed-out');

    expect(await introspect(server, f.rs, jwtTokens.access_token)).toEqual({ active: false });
    expect(await introspect(server, f.rs, opaqueTokens.access_token)).toEqual({ active: false });
    expect(await introspect(server, f.rs, userinfoTokens.access_token)).toEqual({ active: false });
    expect(await introspect(server, f.rs, userinfoTokens.refresh_token!)).toEqual({ active: false });
    expect(await userinfoStatus(server, userinfoTokens.access_token)).toBe(401);
    // offline_access grants die too (default policy).
    expect((await refresh(config, userinfoTokens.refresh_token!)).error).toBe('invalid_grant');
    expect((await refresh(config, jwtTokens.refresh_token!)).error).toBe('invalid_grant');
  });
});
