import { randomBytes } from 'node:crypto';

import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { basic, clientCredentialsToken, cliJson, createClient, discoverWith, INTROSPECTION, post, REVOCATION } from '../support/protocol.js';
import { discover, introspect, login, REDIRECT_URI, seed, type Fixture, type Tokens } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';

const SESSION_MEMBERS = ['active', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sid', 'sub', 'token_type'];
const CLIENT_MEMBERS = SESSION_MEMBERS.filter((m) => m !== 'sid');
const ALLOWED_MEMBERS = new Set(SESSION_MEMBERS);

const SHORT_JWT_API = 'https://short.example.com';
const SHORT_OPAQUE_API = 'https://short-opaque.example.com';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('RFC 7662 introspection (POST /token/introspection)', () => {
  let server: TestServer;
  let f: Fixture;
  let publicClient: { clientId: string };
  let postClient: { clientId: string; clientSecret: string };
  let jwtTokens: Tokens;
  let opaqueTokens: Tokens;
  let ccJwt: string;
  let ccOpaque: string;
  let shortJwt: string;
  let shortOpaque: string;
  let shortIssuedAt: number;
  let shortAtIssue: Record<string, unknown>[];

  const rsAuth = (): Record<string, string> => ({ authorization: basic(f.rs.clientId, f.rs.clientSecret) });

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    await cliJson(server, ['api', 'create'], { identifier: SHORT_JWT_API, scopes: ['read'], accessTokenTTL: 10 });
    await cliJson(server, ['api', 'create'], { identifier: SHORT_OPAQUE_API, scopes: ['read'], accessTokenFormat: 'opaque', accessTokenTTL: 10 });
    publicClient = await createClient(server, {
      client_name: 'Public SPA',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    const created = await createClient(server, {
      client_name: 'RS (client_secret_post)',
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    postClient = { clientId: created.clientId, clientSecret: created.clientSecret! };

    // Short-lived tokens first, so that their expiry overlaps with the other tests.
    const rsConfig = await discover(server, f.rs);
    shortIssuedAt = Date.now();
    shortJwt = await clientCredentialsToken(rsConfig, SHORT_JWT_API, 'read');
    shortOpaque = await clientCredentialsToken(rsConfig, SHORT_OPAQUE_API, 'read');
    shortAtIssue = [await introspect(server, f.rs, shortJwt), await introspect(server, f.rs, shortOpaque)];
    ccJwt = await clientCredentialsToken(rsConfig, f.jwtApi, 'read write');
    ccOpaque = await clientCredentialsToken(rsConfig, f.opaqueApi, 'read');

    const config = await discover(server, f.web);
    const browser = new Browser();
    jwtTokens = await login(config, browser, f, { scope: 'openid email offline_access read', resource: f.jwtApi });
    opaqueTokens = await login(config, browser, f, { scope: 'openid offline_access read', resource: f.opaqueApi });
  });
  afterAll(async () => server?.cleanup());

  describe('client authentication', () => {
    it('no client authentication → 401 invalid_client', async () => {
      const res = await post(server, INTROSPECTION, { token: jwtTokens.access_token });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'invalid_client' });
      expect(res.text).not.toContain('"active"');
    });

    it('wrong secret or unknown client → 401 invalid_client', async () => {
      const wrong = await post(server, INTROSPECTION, { token: jwtTokens.access_token }, { authorization: basic(f.rs.clientId, `${f.rs.clientSecret}x`) });
      expect(wrong.status).toBe(401);
      expect(wrong.json).toMatchObject({ error: 'invalid_client' });
      const unknown = await post(server, INTROSPECTION, { token: jwtTokens.access_token }, { authorization: basic('no-such-client', f.rs.clientSecret) });
      expect(unknown.status).toBe(401);
      expect(unknown.json).toMatchObject({ error: 'invalid_client' });
      // Another client's secret does not authenticate this client.
      const swapped = await post(server, INTROSPECTION, { token: jwtTokens.access_token }, { authorization: basic(f.rs.clientId, f.web.clientSecret) });
      expect(swapped.status).toBe(401);
    });

    it('the caller, read with the token, is checked alike for every kind of token, and for none', async () => {
      const tokens = {
        'opaque access token': opaqueTokens.access_token,
        'JWT access token': jwtTokens.access_token,
        'refresh token': opaqueTokens.refresh_token!,
        'unknown opaque token': 'x'.repeat(43),
        'JWT-shaped garbage (nothing read)': 'aaa.bbb.ccc',
      };
      const reader = await createClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
      const auth = { authorization: basic(reader.clientId, reader.clientSecret!) };
      for (const [what, token] of Object.entries(tokens)) {
        const ok = await post(server, INTROSPECTION, { token }, auth);
        expect(ok.status, what).toBe(200);
        expect(ok.json?.active, what).toBe(!what.startsWith('unknown') && !what.startsWith('JWT-shaped'));
        const wrong = await post(server, INTROSPECTION, { token }, { authorization: basic(reader.clientId, `${reader.clientSecret}x`) });
        expect(wrong.status, what).toBe(401);
        expect(wrong.json, what).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
        const nobody = await post(server, INTROSPECTION, { token }, { authorization: basic('no-such-client', reader.clientSecret!) });
        expect(nobody.status, what).toBe(401);
      }
      // A disabled client is refused at once, whatever it asks about.
      expect((await cli(server, ['client', 'disable', reader.clientId])).code).toBe(0);
      for (const [what, token] of Object.entries(tokens)) {
        const refused = await post(server, INTROSPECTION, { token }, auth);
        expect(refused.status, what).toBe(401);
        expect(refused.json, what).toMatchObject({ error: 'invalid_client' });
      }
    });

    it('a malformed Basic header → 400/401 with an OAuth error body', async () => {
      const headers = [
        'Basic',
        'Basic ',
        'Basic !!!not-base64!!!',
        `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
        `Basic ${Buffer.from(`:${f.rs.clientSecret}`).toString('base64')}`,
        `Basic ${Buffer.from(`${f.rs.clientId}:%E0%A4%A`).toString('base64')}`,
        `Basic ${Buffer.from(`${f.rs.clientId}:${f.rs.clientSecret}`).toString('base64')} trailing`,
        'Bearer abc.def.ghi',
        'Digest username="x"',
      ];
      for (const authorization of headers) {
        const res = await post(server, INTROSPECTION, { token: jwtTokens.access_token }, { authorization });
        expect([400, 401], authorization).toContain(res.status);
        expect(res.json?.error, authorization).toMatch(/^(invalid_request|invalid_client)$/);
        expect(res.json?.active, authorization).toBeUndefined();
      }
    });

    it('a public client (token_endpoint_auth_method none) cannot introspect → 401', async () => {
      const idOnly = await post(server, INTROSPECTION, { token: jwtTokens.access_token, client_id: publicClient.clientId });
      expect(idOnly.status).toBe(401);
      expect(idOnly.json).toMatchObject({ error: 'invalid_client' });
      const emptySecret = await post(server, INTROSPECTION, { token: jwtTokens.access_token }, { authorization: basic(publicClient.clientId, '') });
      expect(emptySecret.status).toBe(401);
      expect(emptySecret.json).toMatchObject({ error: 'invalid_client' });
      const emptyPost = await post(server, INTROSPECTION, { token: jwtTokens.access_token, client_id: publicClient.clientId, client_secret: '' });
      expect(emptyPost.status).toBe(401);
    });

    it('client_secret_post works for a client_secret_post client, but that client is refused with Basic (and vice versa)', async () => {
      const ok = await post(server, INTROSPECTION, { token: jwtTokens.access_token, client_id: postClient.clientId, client_secret: postClient.clientSecret });
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ active: true, client_id: f.web.clientId });
      const viaBasic = await post(server, INTROSPECTION, { token: jwtTokens.access_token }, { authorization: basic(postClient.clientId, postClient.clientSecret) });
      expect(viaBasic.status).toBe(401);
      expect(viaBasic.json).toMatchObject({ error: 'invalid_client' });
      // The client_secret_basic resource server is refused with client_secret_post.
      const rsViaPost = await post(server, INTROSPECTION, { token: jwtTokens.access_token, client_id: f.rs.clientId, client_secret: f.rs.clientSecret });
      expect(rsViaPost.status).toBe(401);
      expect(rsViaPost.json).toMatchObject({ error: 'invalid_client' });
    });
  });

  describe('request validation', () => {
    it('missing or empty token parameter → 400 invalid_request', async () => {
      const missing = await post(server, INTROSPECTION, {}, rsAuth());
      expect(missing.status).toBe(400);
      expect(missing.json).toMatchObject({ error: 'invalid_request' });
      const hintOnly = await post(server, INTROSPECTION, { token_type_hint: 'access_token' }, rsAuth());
      expect(hintOnly.status).toBe(400);
      expect(hintOnly.json).toMatchObject({ error: 'invalid_request' });
      const empty = await post(server, INTROSPECTION, { token: '' }, rsAuth());
      expect(empty.status).toBe(400);
      expect(empty.json).toMatchObject({ error: 'invalid_request' });
    });

    it('a parameter given twice → 400 naming it; a body over 64 KiB → 413; both as OAuth errors', async () => {
      const form = { ...rsAuth(), 'content-type': 'application/x-www-form-urlencoded' };
      const twice = await post(server, INTROSPECTION, `token=${jwtTokens.access_token}&token=${opaqueTokens.access_token}`, form);
      expect(twice.status).toBe(400);
      expect(twice.json).toEqual({ error: 'invalid_request', error_description: 'parameter "token" was given more than once' });
      const huge = await post(server, INTROSPECTION, `token=${'a'.repeat(70 * 1024)}`, form);
      expect(huge.status).toBe(413);
      expect(huge.json).toMatchObject({ error: 'invalid_request' });
      // Percent-encoding and "+" decode as in any form (the token is still found).
      const encoded = await post(server, INTROSPECTION, `token_type_hint=access+token&token=${encodeURIComponent(jwtTokens.access_token)}`, form);
      expect(encoded.json).toMatchObject({ active: true });
    });

    it('a body that is not application/x-www-form-urlencoded → 400', async () => {
      const json = await post(server, INTROSPECTION, JSON.stringify({ token: jwtTokens.access_token }), { ...rsAuth(), 'content-type': 'application/json' });
      expect(json.status).toBe(400);
      expect(json.json).toMatchObject({ error: 'invalid_request' });
      const text = await post(server, INTROSPECTION, `token=${jwtTokens.access_token}`, { ...rsAuth(), 'content-type': 'text/plain' });
      expect(text.status).toBe(400);
      expect(text.json).toMatchObject({ error: 'invalid_request' });
      const none = await post(server, INTROSPECTION, `token=${jwtTokens.access_token}`, { ...rsAuth(), 'content-type': '' });
      expect(none.status).toBe(400);
    });
  });

  describe('inactive tokens answer exactly {"active": false}', () => {
    it('garbage, empty-looking, huge and JWT-shaped garbage tokens', async () => {
      const realPayload = decodeJwt(jwtTokens.access_token);
      const [realHeader, , realSig] = jwtTokens.access_token.split('.');
      const garbage = [
        'garbage',
        ' ',
        '   ',
        '\t',
        '+',
        'null',
        'undefined',
        '""',
        '{}',
        '.',
        '..',
        'a.b.c',
        'x'.repeat(10_000),
        randomBytes(32).toString('base64url'),
        randomBytes(64).toString('base64url'),
        `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64({ iss: server.issuer, sub: f.userId, client_id: f.web.clientId, jti: 'x', exp: 9_999_999_999 })}.${randomBytes(64).toString('base64url')}`,
        // alg "none" with otherwise valid claims (empty signature) and a "signature" of garbage.
        `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(realPayload)}.`,
        `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(realPayload)}.AAAA`,
        // A real token's header and signature around a tampered payload.
        `${realHeader}.${b64({ ...realPayload, scope: 'read write admin' })}.${realSig}`,
        // A real token with one signature character changed.
        jwtTokens.access_token.slice(0, -2) + (jwtTokens.access_token.endsWith('AA') ? 'BB' : 'AA'),
        // An ID token is a JWT signed by the issuer, but not an access token.
        jwtTokens.id_token!,
        `${jwtTokens.access_token} `,
        ` ${opaqueTokens.access_token}`,
        opaqueTokens.access_token.toUpperCase(),
      ];
      for (const token of garbage) {
        const res = await post(server, INTROSPECTION, { token }, rsAuth());
        expect(res.status, token.slice(0, 60)).toBe(200);
        expect(res.json, token.slice(0, 60)).toEqual({ active: false });
      }
      for (const hint of ['access_token', 'refresh_token', 'bogus_hint']) {
        expect(await introspect(server, f.rs, 'garbage', hint)).toEqual({ active: false });
      }
    });

    it('a JWT signed by a foreign key, with typ at+jwt and correct iss/aud (even the server kid and a real jti)', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const real = decodeJwt(jwtTokens.access_token);
      const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
      const now = Math.floor(Date.now() / 1000);
      const forge = (kid?: string, jti = randomBytes(16).toString('base64url')) =>
        new SignJWT({ client_id: f.web.clientId, scope: 'read write', sid: real.sid })
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...(kid ? { kid } : {}) })
          .setIssuer(server.issuer)
          .setAudience(f.jwtApi)
          .setSubject(f.userId)
          .setJti(jti)
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .sign(privateKey);
      const forged = [
        await forge(),
        await forge('foreign-kid'),
        await forge(jwks.keys[0]!.kid),
        // The jti of a real, active token: the signature check must come first.
        await forge(jwks.keys[0]!.kid, String(real.jti)),
      ];
      for (const token of forged) {
        expect(await introspect(server, f.rs, token)).toEqual({ active: false });
        expect(await introspect(server, f.rs, token, 'access_token')).toEqual({ active: false });
      }
      // The genuine token with that jti is unaffected.
      expect(await introspect(server, f.rs, jwtTokens.access_token)).toMatchObject({ active: true });
    });
  });

  describe('active tokens', () => {
    it('token_type_hint is only a hint', async () => {
      const rtAsAt = await introspect(server, f.rs, jwtTokens.refresh_token!, 'access_token');
      expect(rtAsAt).toMatchObject({ active: true, token_type: 'refresh_token', client_id: f.web.clientId, sub: f.userId });
      const opaqueAsRt = await introspect(server, f.rs, opaqueTokens.access_token, 'refresh_token');
      expect(opaqueAsRt).toMatchObject({ active: true, token_type: 'Bearer', aud: f.opaqueApi });
      const jwtAsRt = await introspect(server, f.rs, jwtTokens.access_token, 'refresh_token');
      expect(jwtAsRt).toMatchObject({ active: true, token_type: 'Bearer', aud: f.jwtApi });
      const ccAsRt = await introspect(server, f.rs, ccOpaque, 'refresh_token');
      expect(ccAsRt).toMatchObject({ active: true, client_id: f.rs.clientId });
      const unknownHint = await introspect(server, f.rs, opaqueTokens.refresh_token!, 'id_token');
      expect(unknownHint).toMatchObject({ active: true, token_type: 'refresh_token' });
      // The hint changes nothing in the answer.
      expect(await introspect(server, f.rs, jwtTokens.refresh_token!, 'refresh_token')).toEqual(rtAsAt);
      expect(await introspect(server, f.rs, opaqueTokens.access_token)).toEqual(opaqueAsRt);
    });

    it('session access tokens (JWT and opaque) carry exactly the RFC 7662 members Tessera promises', async () => {
      const jwtPayload = decodeJwt(jwtTokens.access_token);
      const jwt = await introspect(server, f.rs, jwtTokens.access_token);
      expect(Object.keys(jwt).sort()).toEqual(SESSION_MEMBERS);
      expect(jwt).toEqual({
        active: true,
        scope: 'read',
        client_id: f.web.clientId,
        sub: f.userId,
        aud: f.jwtApi,
        iss: server.issuer,
        exp: jwtPayload.exp,
        iat: jwtPayload.iat,
        token_type: 'Bearer',
        jti: jwtPayload.jti,
        sid: jwtPayload.sid,
      });
      expect(jwt.sid).toBeTypeOf('string');

      const opaque = await introspect(server, f.rs, opaqueTokens.access_token);
      expect(Object.keys(opaque).sort()).toEqual(SESSION_MEMBERS);
      expect(opaque).toMatchObject({ active: true, scope: 'read', client_id: f.web.clientId, sub: f.userId, aud: f.opaqueApi, iss: server.issuer, token_type: 'Bearer' });
      expect(opaque.exp).toBeTypeOf('number');
      expect(opaque.iat).toBeTypeOf('number');
      expect(opaque.exp as number).toBeGreaterThan(opaque.iat as number);
      expect(opaque.exp as number).toBeLessThanOrEqual((opaque.iat as number) + 600);
      expect(opaque.jti).toBeTypeOf('string');
      // Same browser session, same client: the same sid.
      expect(opaque.sid).toBe(jwt.sid);

      for (const rt of [jwtTokens.refresh_token!, opaqueTokens.refresh_token!]) {
        const r = await introspect(server, f.rs, rt);
        expect(r).toMatchObject({ active: true, token_type: 'refresh_token', client_id: f.web.clientId, sub: f.userId, iss: server.issuer });
        for (const key of Object.keys(r)) expect(ALLOWED_MEMBERS.has(key), key).toBe(true);
      }
    });

    it('client_credentials tokens (JWT and opaque) are active with sub = client_id and no sid', async () => {
      const jwtPayload = decodeJwt(ccJwt);
      const jwt = await introspect(server, f.rs, ccJwt);
      expect(Object.keys(jwt).sort()).toEqual(CLIENT_MEMBERS);
      expect(jwt).toEqual({
        active: true,
        scope: 'read write',
        client_id: f.rs.clientId,
        sub: f.rs.clientId,
        aud: f.jwtApi,
        iss: server.issuer,
        exp: jwtPayload.exp,
        iat: jwtPayload.iat,
        token_type: 'Bearer',
        jti: jwtPayload.jti,
      });

      const opaque = await introspect(server, f.rs, ccOpaque);
      expect(Object.keys(opaque).sort()).toEqual(CLIENT_MEMBERS);
      expect(opaque).toMatchObject({ active: true, scope: 'read', client_id: f.rs.clientId, sub: f.rs.clientId, aud: f.opaqueApi, iss: server.issuer, token_type: 'Bearer' });

      // Any confidential client may introspect them, e.g. the client_secret_post one.
      const viaPost = await post(server, INTROSPECTION, { token: ccOpaque, client_id: postClient.clientId, client_secret: postClient.clientSecret });
      expect(viaPost.json).toEqual(opaque);
    });

    it('a client_credentials token can also be obtained with openid-client using client_secret_post', async () => {
      const config = await discoverWith(server, postClient.clientId, oidc.ClientSecretPost(postClient.clientSecret));
      const token = await clientCredentialsToken(config, f.opaqueApi, 'read');
      expect(await introspect(server, f.rs, token)).toMatchObject({ active: true, client_id: postClient.clientId, sub: postClient.clientId });
    });
  });

  it('introspections arriving together (looked up in one statement on PostgreSQL) each get their own token\'s and caller\'s answer', async () => {
    const rsConfig = await discover(server, f.rs);
    const revoked = await clientCredentialsToken(rsConfig, f.opaqueApi, 'read');
    expect((await post(server, REVOCATION, { token: revoked }, rsAuth())).status).toBe(200);
    const reader = await createClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    const tokens = [opaqueTokens.access_token, jwtTokens.access_token, opaqueTokens.refresh_token!, ccOpaque, ccJwt, 'x'.repeat(43), revoked];
    const callers = [
      { name: 'rs', authorization: basic(f.rs.clientId, f.rs.clientSecret), ok: true },
      { name: 'reader', authorization: basic(reader.clientId, reader.clientSecret!), ok: true },
      { name: 'wrong secret', authorization: basic(reader.clientId, `${reader.clientSecret}x`), ok: false },
      { name: 'no such client', authorization: basic('no-such-client', reader.clientSecret!), ok: false },
    ];
    // Each token's answer when asked alone.
    const alone = new Map<string, Record<string, unknown>>();
    for (const token of tokens) alone.set(token, (await post(server, INTROSPECTION, { token }, rsAuth())).json!);
    expect(tokens.map((t) => alone.get(t)!.active)).toEqual([true, true, true, true, true, false, false]);
    const asks = [1, 2, 3].flatMap(() => tokens.flatMap((token) => callers.map((caller) => ({ token, caller }))));
    const answers = await Promise.all(asks.map(({ token, caller }) => post(server, INTROSPECTION, { token }, { authorization: caller.authorization })));
    answers.forEach((res, i) => {
      const { token, caller } = asks[i]!;
      const what = `${caller.name} asking about token #${tokens.indexOf(token)}`;
      if (!caller.ok) {
        expect(res.status, what).toBe(401);
        expect(res.json, what).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
        return;
      }
      expect(res.status, what).toBe(200);
      expect(res.json, what).toEqual(alone.get(token));
    });
  });

  it('every response carries Cache-Control: no-store', async () => {
    const responses = [
      await post(server, INTROSPECTION, { token: jwtTokens.access_token }, rsAuth()),
      await post(server, INTROSPECTION, { token: opaqueTokens.access_token }, rsAuth()),
      await post(server, INTROSPECTION, { token: 'garbage' }, rsAuth()),
      await post(server, INTROSPECTION, {}, rsAuth()),
      await post(server, INTROSPECTION, { token: 'garbage' }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 400, 401]);
    for (const res of responses) {
      expect(res.headers.get('cache-control')).toMatch(/no-store/);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });

  it('expired tokens (JWT and opaque, 10 s API lifetime) → {"active": false}', async () => {
    // Both were active when issued…
    expect(shortAtIssue[0]).toMatchObject({ active: true, aud: SHORT_JWT_API, sub: f.rs.clientId });
    expect(shortAtIssue[1]).toMatchObject({ active: true, aud: SHORT_OPAQUE_API, sub: f.rs.clientId });
    const payload = decodeJwt(shortJwt);
    expect((payload.exp as number) - (payload.iat as number)).toBe(10);
    // …and are not once their lifetime is over.
    const wait = shortIssuedAt + 11_500 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    expect(await introspect(server, f.rs, shortJwt)).toEqual({ active: false });
    expect(await introspect(server, f.rs, shortOpaque)).toEqual({ active: false });
    expect(await introspect(server, f.rs, shortOpaque, 'access_token')).toEqual({ active: false });
  }, 30_000);
});
