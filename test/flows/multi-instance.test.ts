import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser, formAction, hiddenInput } from '../support/browser.js';
import { testDatabaseKind } from '../support/database.js';
import { discover, introspect, login, POST_LOGOUT_URI, seed, userinfoStatus, type Fixture, type Tokens } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';
import { createPollStream, newReceiver, poll } from '../support/ssf.js';

/**
 * Three Tessera processes on ONE PostgreSQL database behind one issuer (as behind a load
 * balancer): whatever one instance does — log in, refresh, log out, rotate keys — every other
 * instance sees at its very next request. PostgreSQL only (SQLite is single-host by nature).
 */
if (testDatabaseKind === 'postgresql') {
  type Credentials = { clientId: string; clientSecret: string };

  const basic = (c: Credentials): string =>
    `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

  /** A raw form POST to an instance's /token (whatever instance the load balancer picked). */
  async function tokenRequest(server: TestServer, client: Credentials, params: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async function refreshOn(server: TestServer, client: Credentials, refreshToken: string) {
    return tokenRequest(server, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  async function jwksKids(server: TestServer): Promise<string[]> {
    const res = await fetch(`${server.issuer}/jwks`);
    if (res.status !== 200) return [];
    return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  }

  /** The same URL on another instance (the issuer is shared; each test server has its own port). */
  function on(server: TestServer, url: string): string {
    const u = new URL(url);
    const target = new URL(server.issuer);
    u.protocol = target.protocol;
    u.host = target.host;
    return u.toString();
  }

  /** RP-initiated logout, page and confirm both served by `server` (cookies are per host, not per port). */
  async function logoutOn(server: TestServer, config: oidc.Configuration, browser: Browser, idToken: string | undefined): Promise<Response> {
    const url = on(server, oidc.buildEndSessionUrl(config, {
      ...(idToken ? { id_token_hint: idToken } : {}),
      post_logout_redirect_uri: POST_LOGOUT_URI,
    }).toString());
    const page = await browser.request(url);
    const html = await page.text();
    if (page.status !== 200) throw new Error(`logout page on ${server.issuer} answered ${page.status}: ${html.slice(0, 500)}`);
    const action = on(server, new URL(formAction(html, /\/logout\/confirm$/), url).toString());
    return browser.request(action, { form: { xsrf: hiddenInput(html, 'xsrf'), logout: 'yes' } });
  }

  describe('several instances on one database (one issuer behind a load balancer)', () => {
    let A: TestServer;
    let B: TestServer;
    let C: TestServer;
    let f: Fixture;
    const extra: TestServer[] = [];

    beforeAll(async () => {
      A = await startServer({ KEY_REFRESH_INTERVAL: '1' });
      // startServer derives ISSUER from the port; extraEnv comes last, so B and C share A's.
      B = await startServer({ ISSUER: A.issuer, KEY_REFRESH_INTERVAL: '1' }, { dir: A.dir });
      C = await startServer({ ISSUER: A.issuer, KEY_REFRESH_INTERVAL: '1' }, { dir: A.dir });
      f = await seed(A);
    }, 120_000);

    afterAll(async () => {
      // Everyone on A's database first; A (the owner) drops it last.
      await Promise.all([B, C, ...extra].filter(Boolean).map((s) => s.cleanup()));
      await A?.cleanup();
    });

    const all = (): TestServer[] => [A, B, C];

    it('the instances share the issuer and the signing keys', async () => {
      expect(new Set([A.issuer, B.issuer, C.issuer]).size).toBe(3);
      for (const s of all()) {
        const res = await fetch(`${s.issuer}/.well-known/openid-configuration`);
        expect(((await res.json()) as { issuer: string }).issuer).toBe(A.issuer);
      }
      const kids = await jwksKids(A);
      expect(kids.length).toBeGreaterThan(0);
      expect(await jwksKids(B)).toEqual(kids);
      expect(await jwksKids(C)).toEqual(kids);
    });

    it('log in on A, refresh on B, log out on C: every token of the session is dead on A, B and C at once', async () => {
      const config = await discover(A, f.web);
      const browser = new Browser();
      const userinfoTokens = await login(config, browser, f, { scope: 'openid email offline_access' });
      const jwtTokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
      expect(userinfoTokens.refresh_token).toBeTruthy();
      expect(jwtTokens.refresh_token).toBeTruthy();
      expect(jwtTokens.access_token.split('.')).toHaveLength(3);

      // Every instance accepts what A issued.
      for (const s of all()) {
        expect(await userinfoStatus(s, userinfoTokens.access_token)).toBe(200);
        expect(await introspect(s, f.rs, jwtTokens.access_token)).toMatchObject({ active: true, iss: A.issuer, sub: f.userId, aud: f.jwtApi });
        expect(await introspect(s, f.rs, userinfoTokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });
      }

      // Refresh both grants on B (raw token endpoint, client_secret_basic).
      const refreshedUserinfo = await refreshOn(B, f.web, userinfoTokens.refresh_token!);
      expect(refreshedUserinfo.status, JSON.stringify(refreshedUserinfo.json)).toBe(200);
      const refreshedJwt = await refreshOn(B, f.web, jwtTokens.refresh_token!);
      expect(refreshedJwt.status, JSON.stringify(refreshedJwt.json)).toBe(200);
      expect(B.output()).toMatch(/"event":"http","method":"POST","path":"\/token","status":200/);
      const rotated: Tokens[] = [refreshedUserinfo.json, refreshedJwt.json].map((j) => ({
        access_token: j.access_token as string,
        refresh_token: j.refresh_token as string,
        id_token: j.id_token as string | undefined,
      }));
      // Rotation: new refresh tokens; the old ones are consumed on every instance (not reused
      // at /token here: reuse of a rotated refresh token revokes the whole grant).
      expect(rotated[0]!.refresh_token).toBeTruthy();
      expect(rotated[0]!.refresh_token).not.toBe(userinfoTokens.refresh_token);
      expect(rotated[1]!.refresh_token).not.toBe(jwtTokens.refresh_token);
      expect(rotated[1]!.access_token.split('.')).toHaveLength(3);
      for (const s of all()) {
        expect(await introspect(s, f.rs, userinfoTokens.refresh_token!)).toEqual({ active: false });
        expect(await introspect(s, f.rs, jwtTokens.refresh_token!)).toEqual({ active: false });
        for (const t of rotated) {
          expect(await introspect(s, f.rs, t.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token', client_id: f.web.clientId });
        }
        expect(await userinfoStatus(s, rotated[0]!.access_token)).toBe(200);
        expect(await introspect(s, f.rs, rotated[1]!.access_token)).toMatchObject({ active: true, aud: f.jwtApi, iss: A.issuer });
      }

      // Log out on C with the browser's cookies (set by A: host-based, so they reach C too).
      const out = await logoutOn(C, config, browser, userinfoTokens.id_token);
      expect(out.status).toBe(303);
      expect(out.headers.get('location')).toContain('/signed-out');
      // C served it (and revoked): nobody else did.
      expect(C.output()).toContain('"event":"logout.session"');
      expect(A.output()).not.toContain('"event":"logout.session"');
      expect(B.output()).not.toContain('"event":"logout.session"');

      // Right after C's 303, on every instance:
      const accessTokens = [userinfoTokens.access_token, jwtTokens.access_token, ...rotated.map((t) => t.access_token)];
      const refreshTokens = [userinfoTokens.refresh_token!, jwtTokens.refresh_token!, ...rotated.map((t) => t.refresh_token!)];
      for (const s of all()) {
        for (const token of [...accessTokens, ...refreshTokens]) {
          expect(await introspect(s, f.rs, token), `${s.issuer}: ${token.slice(0, 12)}…`).toEqual({ active: false });
        }
        expect(await userinfoStatus(s, userinfoTokens.access_token)).toBe(401);
        expect(await userinfoStatus(s, rotated[0]!.access_token)).toBe(401);
      }
      for (const s of all()) {
        for (const rt of rotated.map((t) => t.refresh_token!)) {
          const r = await refreshOn(s, f.web, rt);
          expect(r.status, `${s.issuer}: ${JSON.stringify(r.json)}`).toBe(400);
          expect(r.json.error).toBe('invalid_grant');
        }
      }
    });

    it('the logout holds after the instance that served it is killed -9 right after its answer', async () => {
      const config = await discover(A, f.web);
      const browser = new Browser();
      const userinfoTokens = await login(config, browser, f, { scope: 'openid email offline_access' });
      const jwtTokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
      for (const s of [A, B]) expect(await introspect(s, f.rs, jwtTokens.access_token)).toMatchObject({ active: true });

      const out = await logoutOn(C, config, browser, userinfoTokens.id_token);
      const killed = C.stop('SIGKILL');
      expect(out.status).toBe(303);
      await killed;

      const tokens = [userinfoTokens.access_token, userinfoTokens.refresh_token!, jwtTokens.access_token, jwtTokens.refresh_token!];
      for (const s of [A, B]) {
        for (const token of tokens) expect(await introspect(s, f.rs, token)).toEqual({ active: false });
        expect(await userinfoStatus(s, userinfoTokens.access_token)).toBe(401);
        const r = await refreshOn(s, f.web, userinfoTokens.refresh_token!);
        expect(r.json.error).toBe('invalid_grant');
      }

      // The operator restarts C (same database and issuer, new process): it agrees.
      extra.push(C);
      C = await startServer({ ISSUER: A.issuer, KEY_REFRESH_INTERVAL: '1' }, { dir: A.dir });
      for (const token of tokens) expect(await introspect(C, f.rs, token)).toEqual({ active: false });
    });

    it('tessera keys rotate reaches every instance without restart; tokens signed before stay valid', async () => {
      const clientCredentialsJwt = async (s: TestServer): Promise<string> => {
        const r = await tokenRequest(s, f.rs, { grant_type: 'client_credentials', scope: 'read', resource: f.jwtApi });
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        return r.json.access_token as string;
      };
      const before = await clientCredentialsJwt(A);
      const oldKid = decodeProtectedHeader(before).kid;
      expect(await jwksKids(B)).toContain(oldKid);

      const rotation = await cli(A, ['keys', 'rotate']);
      expect(rotation.code, rotation.stderr).toBe(0);
      const { kid: newKid, retired } = rotation.json<{ kid: string; retired: string[] }>();
      expect(retired).toContain(oldKid);

      const deadline = Date.now() + 15_000;
      let views: string[][] = [];
      for (;;) {
        views = await Promise.all(all().map(jwksKids));
        if (views.every((kids) => kids.includes(newKid))) break;
        if (Date.now() > deadline) throw new Error(`new kid ${newKid} not published by every instance within 15 s: ${JSON.stringify(views)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      // The retired key stays published (SIGNING_KEY_OVERLAP) everywhere.
      for (const kids of views) expect(kids).toContain(oldKid);

      const after = await clientCredentialsJwt(B);
      expect(decodeProtectedHeader(after).kid).toBe(newKid);
      for (const s of [A, C]) {
        expect(await introspect(s, f.rs, after)).toMatchObject({ active: true, client_id: f.rs.clientId, aud: f.jwtApi, iss: A.issuer });
      }
      for (const s of all()) {
        expect(await introspect(s, f.rs, before)).toMatchObject({ active: true, client_id: f.rs.clientId, aud: f.jwtApi, iss: A.issuer });
      }
    });

    it('a logout on A wakes a long poll held by B (LISTEN/NOTIFY), and the CLI\'s revocations reach it too', async () => {
      const receiver = await newReceiver(A);
      const { pollUrl } = await createPollStream(B, receiver);
      const onB = on(B, pollUrl);
      const replayed = await poll(B, receiver, onB, { returnImmediately: true, maxEvents: 1000 });
      await poll(B, receiver, onB, { ack: Object.keys(replayed.sets), maxEvents: 0 });

      const config = await discover(A, f.web);
      const browser = new Browser();
      const tokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
      const sid = decodeJwt(tokens.access_token).sid as string;
      const held = poll(B, receiver, onB, { returnImmediately: false });
      const res = await logoutOn(A, config, browser, tokens.id_token);
      expect(res.status).toBe(303);
      const answer = await held;
      const sessions = Object.values(answer.sets).map((set) => decodeJwt(set) as Record<string, any>).map((p) => p.sub_id?.session?.id);
      expect(sessions).toContain(sid);
      await poll(B, receiver, onB, { ack: Object.keys(answer.sets), maxEvents: 0 });

      const second = poll(B, receiver, onB, { returnImmediately: false });
      expect((await cli(A, ['user', 'signout', f.email])).code).toBe(0);
      const subjects = Object.values((await second).sets).map((set) => (decodeJwt(set) as Record<string, any>).sub_id);
      expect(subjects).toContainEqual({ format: 'iss_sub', iss: A.issuer, sub: f.userId });
    });
  });
}
