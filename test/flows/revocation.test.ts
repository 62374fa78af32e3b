import { randomBytes } from 'node:crypto';

import { generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { basic, clientCredentialsToken, createClient, post, REVOCATION } from '../support/protocol.js';
import { discover, introspect, login, logout, REDIRECT_URI, refresh, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

describe('RFC 7009 revocation (POST /token/revocation)', () => {
  let server: TestServer;
  let f: Fixture;
  let web: oidc.Configuration;
  let other: { clientId: string; clientSecret: string };
  let publicClient: { clientId: string };

  const webAuth = (): Record<string, string> => ({ authorization: basic(f.web.clientId, f.web.clientSecret) });
  const revoke = (token: string, headers: Record<string, string>, extra: Record<string, string> = {}) =>
    post(server, REVOCATION, { token, ...extra }, headers);
  const active = async (token: string): Promise<boolean> => (await introspect(server, f.rs, token)).active === true;

  /** A fresh browser session: JWT-API and opaque-API logins sharing one grant (the consent reuses it). */
  async function session(config = web, user: { email: string; password: string } = f) {
    const browser = new Browser();
    const jwt = await login(config, browser, user, { scope: 'openid offline_access read', resource: f.jwtApi });
    const opaque = await login(config, browser, user, { scope: 'openid offline_access read', resource: f.opaqueApi });
    return { browser, jwt, opaque };
  }

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    web = await discover(server, f.web);
    const created = await createClient(server, {
      client_name: 'Other App',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
    });
    other = { clientId: created.clientId, clientSecret: created.clientSecret! };
    publicClient = await createClient(server, {
      client_name: 'Public SPA',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
  });
  afterAll(async () => server?.cleanup());

  it('no client authentication → 401 invalid_client, and the token stays active', async () => {
    const { jwt } = await session();
    const res = await revoke(jwt.refresh_token!, {});
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_client' });
    const wrong = await revoke(jwt.refresh_token!, { authorization: basic(f.web.clientId, 'not-the-secret') });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: 'invalid_client' });
    // A confidential client cannot pass itself off as public by sending only its client_id.
    const idOnly = await revoke(jwt.refresh_token!, {}, { client_id: f.web.clientId });
    expect(idOnly.status).toBe(401);
    expect(idOnly.json).toMatchObject({ error: 'invalid_client' });
    expect(await active(jwt.refresh_token!)).toBe(true);
    expect(await active(jwt.access_token)).toBe(true);
  });

  it('missing token → 400 invalid_request; non-form body → 400', async () => {
    const missing = await post(server, REVOCATION, {}, webAuth());
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ error: 'invalid_request' });
    const empty = await revoke('', webAuth());
    expect(empty.status).toBe(400);
    expect(empty.json).toMatchObject({ error: 'invalid_request' });
    const json = await post(server, REVOCATION, JSON.stringify({ token: 'x' }), { ...webAuth(), 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(json.json).toMatchObject({ error: 'invalid_request' });
  });

  it('unknown or garbage tokens → 200 and harmless', async () => {
    const { jwt, opaque } = await session();
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ client_id: f.web.clientId, scope: 'read' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(server.issuer).setAudience(f.jwtApi).setSubject(f.userId)
      .setJti(randomBytes(16).toString('base64url')).setIssuedAt(now).setExpirationTime(now + 300)
      .sign(privateKey);
    const garbage = ['garbage', ' ', 'a.b.c', 'x'.repeat(10_000), randomBytes(32).toString('base64url'), foreign, jwt.id_token!, `${jwt.refresh_token!}x`];
    for (const token of garbage) {
      for (const hint of [undefined, 'access_token', 'refresh_token', 'nonsense']) {
        const res = await revoke(token, webAuth(), hint ? { token_type_hint: hint } : {});
        expect(res.status, token.slice(0, 40)).toBe(200);
        expect(res.json, token.slice(0, 40)).toBeUndefined();
        expect(res.headers.get('cache-control')).toMatch(/no-store/);
      }
    }
    for (const token of [jwt.access_token, jwt.refresh_token!, opaque.access_token, opaque.refresh_token!]) {
      expect(await active(token)).toBe(true);
    }
  });

  it('revoking a JWT access token kills that token only (by jti, not by grant)', async () => {
    const browser = new Browser();
    const first = await login(web, browser, f, { scope: 'openid offline_access read', resource: f.jwtApi });
    const refreshed = await refresh(web, first.refresh_token!);
    expect(refreshed.error).toBeUndefined();
    const second = refreshed.tokens!;
    expect(second.access_token.split('.')).toHaveLength(3);
    const opaque = await login(web, browser, f, { scope: 'openid offline_access read', resource: f.opaqueApi });
    expect(await active(first.access_token)).toBe(true);

    // openid-client's RFC 7009 call (client_secret_basic).
    await oidc.tokenRevocation(web, first.access_token);
    expect(await introspect(server, f.rs, first.access_token)).toEqual({ active: false });
    expect(await introspect(server, f.rs, first.access_token, 'access_token')).toEqual({ active: false });
    // Same grant, other tokens: untouched.
    expect(await active(second.access_token)).toBe(true);
    expect(await active(opaque.access_token)).toBe(true);
    expect(await active(opaque.refresh_token!)).toBe(true);
    expect(await active(second.refresh_token!)).toBe(true);
    const again = await refresh(web, second.refresh_token!);
    expect(again.error).toBeUndefined();
    expect(await active(again.tokens!.access_token)).toBe(true);
    // Revoking it again is harmless.
    expect((await revoke(first.access_token, webAuth())).status).toBe(200);
    expect(await introspect(server, f.rs, first.access_token)).toEqual({ active: false });
  });

  it('revoking an opaque access token kills that token only', async () => {
    const { browser, jwt, opaque } = await session();
    const userinfo = await login(web, browser, f, { scope: 'openid email' });
    expect(await userinfoStatus(server, userinfo.access_token)).toBe(200);

    const res = await revoke(opaque.access_token, webAuth(), { token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(await introspect(server, f.rs, opaque.access_token)).toEqual({ active: false });
    expect(await active(jwt.access_token)).toBe(true);
    expect(await active(jwt.refresh_token!)).toBe(true);
    expect(await active(opaque.refresh_token!)).toBe(true);
    expect(await userinfoStatus(server, userinfo.access_token)).toBe(200);

    // The userinfo access token (opaque, hint refresh_token: only a hint) → dead at /me too.
    expect((await revoke(userinfo.access_token, webAuth(), { token_type_hint: 'refresh_token' })).status).toBe(200);
    expect(await userinfoStatus(server, userinfo.access_token)).toBe(401);
    expect(await introspect(server, f.rs, userinfo.access_token)).toEqual({ active: false });
    expect(await active(jwt.access_token)).toBe(true);
    expect((await refresh(web, opaque.refresh_token!)).error).toBeUndefined();
  });

  it('revoking a refresh token kills the whole grant', async () => {
    const { browser, jwt, opaque } = await session();
    const userinfo = await login(web, browser, f, { scope: 'openid email offline_access' });
    for (const token of [jwt.access_token, opaque.access_token, userinfo.access_token, jwt.refresh_token!, opaque.refresh_token!, userinfo.refresh_token!]) {
      expect(await active(token)).toBe(true);
    }

    const res = await revoke(opaque.refresh_token!, webAuth(), { token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);

    for (const token of [jwt.access_token, opaque.access_token, userinfo.access_token, jwt.refresh_token!, opaque.refresh_token!, userinfo.refresh_token!]) {
      expect(await introspect(server, f.rs, token)).toEqual({ active: false });
    }
    expect(await userinfoStatus(server, userinfo.access_token)).toBe(401);
    for (const rt of [jwt.refresh_token!, opaque.refresh_token!, userinfo.refresh_token!]) {
      expect((await refresh(web, rt)).error).toBe('invalid_grant');
    }
  });

  it('another client revoking someone else\'s token → 200 with no effect', async () => {
    const { jwt, opaque } = await session();
    const tokens = [jwt.access_token, opaque.access_token, jwt.refresh_token!, opaque.refresh_token!];
    const strangers: Record<string, string>[] = [
      { authorization: basic(other.clientId, other.clientSecret) },
      { authorization: basic(f.rs.clientId, f.rs.clientSecret) },
    ];
    for (const token of tokens) {
      for (const headers of strangers) {
        for (const hint of [undefined, 'access_token', 'refresh_token']) {
          const res = await revoke(token, headers, hint ? { token_type_hint: hint } : {});
          expect(res.status).toBe(200);
        }
      }
      // A public client too (client_id only).
      expect((await revoke(token, {}, { client_id: publicClient.clientId })).status).toBe(200);
    }
    for (const token of tokens) expect(await active(token)).toBe(true);
    expect((await refresh(web, jwt.refresh_token!)).error).toBeUndefined();
  });

  it('client_credentials tokens: the owner can revoke them, nobody else can', async () => {
    const rsConfig = await discover(server, f.rs);
    const ccJwt = await clientCredentialsToken(rsConfig, f.jwtApi, 'read');
    const ccOpaque = await clientCredentialsToken(rsConfig, f.opaqueApi, 'read');
    for (const token of [ccJwt, ccOpaque]) {
      expect((await revoke(token, webAuth())).status).toBe(200);
      expect(await active(token)).toBe(true);
    }
    await oidc.tokenRevocation(rsConfig, ccJwt);
    await oidc.tokenRevocation(rsConfig, ccOpaque);
    expect(await introspect(server, f.rs, ccJwt)).toEqual({ active: false });
    expect(await introspect(server, f.rs, ccOpaque)).toEqual({ active: false });
  });

  it('a public client (auth none, client_id in the body) can revoke its own refresh token', async () => {
    const config = await discover(server, publicClient);
    const browser = new Browser();
    const tokens = await login(config, browser, f, { scope: 'openid offline_access read', resource: f.jwtApi });
    expect(tokens.refresh_token).toBeTruthy();
    expect(await active(tokens.refresh_token!)).toBe(true);
    expect(await active(tokens.access_token)).toBe(true);

    // Someone else's token, revoked by the public client: no effect.
    const { jwt } = await session();
    expect((await revoke(jwt.refresh_token!, {}, { client_id: publicClient.clientId })).status).toBe(200);
    expect(await active(jwt.refresh_token!)).toBe(true);

    const res = await revoke(tokens.refresh_token!, {}, { client_id: publicClient.clientId, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(await introspect(server, f.rs, tokens.refresh_token!)).toEqual({ active: false });
    expect(await introspect(server, f.rs, tokens.access_token)).toEqual({ active: false });
    expect((await refresh(config, tokens.refresh_token!)).error).toBe('invalid_grant');
  });

  it('a public client can revoke with openid-client (auth None)', async () => {
    const config = await discover(server, publicClient);
    const tokens = await login(config, new Browser(), f, { scope: 'openid offline_access' });
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect(await introspect(server, f.rs, tokens.refresh_token!)).toEqual({ active: false });
    expect(await userinfoStatus(server, tokens.access_token)).toBe(401);
  });

  it('revoking after logout is harmless (200)', async () => {
    const { browser, jwt, opaque } = await session();
    const out = await logout(web, browser, { idToken: jwt.id_token });
    expect(out.status).toBe(303);
    for (const token of [jwt.access_token, opaque.access_token, jwt.refresh_token!, opaque.refresh_token!]) {
      const res = await revoke(token, webAuth());
      expect(res.status).toBe(200);
      expect(res.json).toBeUndefined();
      expect(await introspect(server, f.rs, token)).toEqual({ active: false });
    }
    await expect(oidc.tokenRevocation(web, jwt.refresh_token!)).resolves.toBeUndefined();
  });
});
