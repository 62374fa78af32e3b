import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  adminApi, adminCaller, adminResource, call, invalid, NamedBrowser, tokenRequest, type AdminApi, type AdminCaller, type Json,
} from '../support/admin.js';
import { createUser, submitPassword } from '../support/flows.js';
import { basic, post, REVOCATION } from '../support/protocol.js';
import { discover, login, logout, REDIRECT_URI, seed, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

describe('admin API: authorization, audit log, figures', { timeout: 60_000 }, () => {
  let server: TestServer;
  let f: Fixture;
  let config: oidc.Configuration;
  let caller: AdminCaller;
  let admin: AdminApi;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    config = await discover(server, f.web);
    caller = await adminCaller(server);
    admin = adminApi(server, () => caller.token);
  });
  afterAll(async () => server?.cleanup());

  const clientActor = () => ({ type: 'client', id: caller.clientId });

  it('serves its OpenAPI 3.1 document without authentication', async () => {
    const res = await fetch(`${server.issuer}/admin/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: adminResource(server) }]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/users', '/users/{userId}', '/clients/{clientId}/secret', '/apis/{apiId}', '/audit', '/stats']));
  });

  describe('authorization', () => {
    it('no token, a malformed header or a garbage token: 401 with WWW-Authenticate, audited as admin.denied', async () => {
      const none = await call(server, null, 'GET', '/users');
      expect(none.status).toBe(401);
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tessera-admin"');
      expect(none.body).toMatchObject({ error: 'unauthorized' });

      const garbage = await call(server, 'not-a-real-token', 'GET', '/users');
      expect(garbage.status).toBe(401);
      expect(garbage.headers.get('www-authenticate')).toBe('Bearer realm="tessera-admin", error="invalid_token"');
      expect(garbage.body).toMatchObject({ error: 'invalid_token' });

      const basicHeader = await call(server, null, 'GET', '/users', undefined, { headers: { authorization: basic(caller.clientId, caller.clientSecret) } });
      expect(basicHeader.status).toBe(401);
      expect(basicHeader.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);

      // Changes are refused just the same, and change nothing.
      const before = (await admin.get('/users')).body.total as number;
      const create = await call(server, 'not-a-real-token', 'POST', '/users', { email: 'sneaky@example.com', password: 'sneaky password' });
      expect(create.status).toBe(401);
      expect((await admin.get('/users')).body.total).toBe(before);

      // The body of an unauthenticated request is not even read.
      const unread = await call(server, null, 'POST', '/users', undefined, { raw: '{"not json' });
      expect(unread.status).toBe(401);

      const denied = await admin.audit({ action: 'admin.denied' });
      expect(denied.length).toBeGreaterThanOrEqual(5);
      expect(denied[0]).toMatchObject({ outcome: 'failure', actor: { type: 'anonymous' }, details: { method: 'POST', path: '/admin/api/users' } });
      expect(denied.map((d) => d.reason)).toContain('the access token is not active');
      expect(JSON.stringify(denied)).not.toContain(caller.clientSecret);
    });

    it('a client without "admin" in its scope metadata cannot get an admin-API token, and its other tokens answer 403 insufficient_scope', async () => {
      // f.rs is an ordinary client_credentials client.
      const asked = await tokenRequest(server, f.rs, { scope: 'admin', resource: adminResource(server) });
      expect(asked.status).toBe(400);
      expect(asked.body.error).toBe('invalid_target');

      for (const resource of [f.jwtApi, f.opaqueApi]) {
        const t = await tokenRequest(server, f.rs, { resource, scope: 'read' });
        expect(t.status).toBe(200);
        const r = await call(server, t.body.access_token as string, 'GET', '/users');
        expect(r.status, resource).toBe(403);
        expect(r.body, resource).toMatchObject({ error: 'insufficient_scope' });
        expect(r.headers.get('www-authenticate'), resource).toBe('Bearer realm="tessera-admin", error="insufficient_scope", scope="admin"');
      }
      const denied = await admin.audit({ action: 'admin.denied', outcome: 'failure' });
      expect(denied[0]!.reason).toMatch(/must be issued for .*\/admin\/api with scope "admin"/);
      // The caller did authenticate, so the refusal names it (by its own id, the actor filter finds it).
      expect(denied[0]!.actor).toMatchObject({ type: 'client', id: f.rs.clientId });
      expect(await admin.audit({ action: 'admin.denied', actor: f.rs.clientId })).toHaveLength(2);
    });

    it('a revoked admin token (RFC 7009) answers 401 at the very next request; the revocation is audited with the client as actor', async () => {
      const other = await adminCaller(server, { client_name: 'Short-lived Admin' });
      expect((await call(server, other.token, 'GET', '/stats')).status).toBe(200);
      const revoked = await post(server, REVOCATION, { token: other.token }, { authorization: basic(other.clientId, other.clientSecret) });
      expect(revoked.status).toBe(200);
      const r = await call(server, other.token, 'GET', '/stats');
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: 'invalid_token' });
      const entry = (await admin.audit({ action: 'token.revoke', actor: other.clientId }))[0];
      expect(entry).toMatchObject({ action: 'token.revoke', actor: { type: 'client', id: other.clientId }, target: { type: 'client', id: other.clientId }, details: { tokens: 1 } });
    });

    it('disabling an admin client makes its token fail at the next request', async () => {
      const other = await adminCaller(server, { client_name: 'Disabled Admin' });
      expect((await call(server, other.token, 'GET', '/clients')).status).toBe(200);
      expect((await admin.post(`/clients/${other.clientId}/disable`)).status).toBe(200);
      expect((await call(server, other.token, 'GET', '/clients')).status).toBe(401);
      const again = await tokenRequest(server, other, { scope: 'admin', resource: adminResource(server) });
      expect(again.status).toBe(401);
    });

    it('a refresh token presented as a bearer token answers 401', async () => {
      const t = await login(config, new NamedBrowser('Refresh As Bearer'), f, { scope: 'openid email' });
      expect(t.refresh_token).toBeTruthy();
      const r = await call(server, t.refresh_token!, 'GET', '/users');
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: 'invalid_token' });
      // An ordinary user access token (userinfo audience) is not for the admin API either.
      expect((await call(server, t.access_token, 'GET', '/users')).status).toBe(403);
    });

    it('a user\'s admin-API token works only while the user is an enabled admin', async () => {
      // A web client registered with "admin" in its scope metadata may ask for admin-API tokens for its users.
      const c = await admin.post('/clients', {
        client_name: 'Ops Web', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid email admin',
      });
      expect(c.status).toBe(201);
      const opsConfig = await discover(server, { clientId: c.body.client.client_id as string, clientSecret: c.body.client_secret as string });
      const user = await createUser(server, 'operator@example.com', 'operator password');
      const t = await login(opsConfig, new NamedBrowser('Operator'), user, { scope: 'openid admin', resource: adminResource(server) });

      const notAdmin = await call(server, t.access_token, 'GET', '/users');
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body).toMatchObject({ error: 'forbidden' });

      expect((await admin.patch(`/users/${user.userId}`, { roles: ['admin'] })).status).toBe(200);
      const asAdmin = await call(server, t.access_token, 'GET', '/users');
      expect(asAdmin.status).toBe(200);
      const read = (await admin.audit({ action: 'admin.read', actor: user.userId }))[0];
      expect(read).toMatchObject({ actor: { type: 'admin', id: user.userId, label: 'operator@example.com' }, details: { operation: 'listUsers' } });

      // A change made with it is audited with the user as actor.
      const made = await call(server, t.access_token, 'POST', '/users', { email: 'made-by-operator@example.com', password: 'made password' });
      expect(made.status).toBe(201);
      expect((await admin.audit({ action: 'user.create', target: made.body.id as string }))[0]).toMatchObject({ actor: { type: 'admin', id: user.userId } });

      // Demoted (another admin exists, so the last-admin guard allows it): 403 again, at once.
      expect((await admin.post('/users', { email: 'backup-admin@example.com', password: 'backup password', roles: ['admin'] })).status).toBe(201);
      expect((await admin.patch(`/users/${user.userId}`, { roles: [] })).status).toBe(200);
      expect((await call(server, t.access_token, 'GET', '/users')).status).toBe(403);
    });
  });

  describe('audit log', () => {
    it('records admin reads with the operation and the actor', async () => {
      expect((await admin.get('/apis')).status).toBe(200);
      const entry = (await admin.audit({ action: 'admin.read', actor: caller.clientId }))[0];
      expect(entry).toMatchObject({ action: 'admin.read', outcome: 'success', actor: clientActor(), details: { operation: 'listApis', path: '/admin/api/apis' } });
      expect(entry!.ip).toMatch(/127\.0\.0\.1/);
    });

    it('records logins (success, and failure with the reason) and logouts', async () => {
      const user = await createUser(server, 'audited@example.com', 'audited password');
      const wrong = await submitPassword(config, new NamedBrowser('Wrong'), { email: user.email, password: 'not the password' });
      expect(wrong.status).toBe(401);
      const unknown = await submitPassword(config, new NamedBrowser('Unknown'), { email: 'nobody@example.com', password: 'whatever password' });
      expect(unknown.status).toBe(401);
      const browser = new NamedBrowser('Audited Browser');
      const t = await login(config, browser, user, { scope: 'openid email' });
      const out = await logout(config, browser, { idToken: t.id_token });
      expect(out.status).toBe(303);

      const failures = await admin.audit({ action: 'login', outcome: 'failure' });
      expect(failures.find((e) => e.target?.id === user.userId)).toMatchObject({ actor: { type: 'anonymous' }, reason: 'wrong password', details: { email: user.email, client: f.web.clientId } });
      expect(failures.find((e) => e.details.email === 'nobody@example.com')).toMatchObject({ reason: 'unknown e-mail', target: null });
      expect(JSON.stringify(failures)).not.toMatch(/not the password|whatever password/);

      const success = await admin.audit({ action: 'login', outcome: 'success', target: user.userId });
      expect(success).toHaveLength(1);
      expect(success[0]).toMatchObject({ actor: { type: 'user', id: user.userId, label: user.email }, details: { client: f.web.clientId, userAgent: 'Audited Browser' } });

      const logouts = await admin.audit({ action: 'logout', target: user.userId });
      expect(logouts).toHaveLength(1);
      // (The counts are what was left for Tessera to revoke after oidc-provider ended the session.)
      expect(logouts[0]).toMatchObject({
        actor: { type: 'user', id: user.userId }, reason: 'signed out',
        details: {
          scope: 'session', session: expect.any(String), sessions: expect.any(Number), grants: expect.any(Number), tokens: expect.any(Number),
          // What the session held when the user signed out: one grant, of the web client.
          sessionGrants: 1, clients: [f.web.clientId],
        },
      });
    });

    it('filters by action (exact and prefix), actor, target, outcome and time', async () => {
      const u = await admin.post('/users', { email: 'filtered@example.com', password: 'filtered password' });
      const id = u.body.id as string;
      await admin.patch(`/users/${id}`, { roles: ['support'] });
      await admin.post(`/users/${id}/disable`);

      const exact = await admin.audit({ action: 'user.update' });
      expect(exact.length).toBeGreaterThan(0);
      expect(exact.every((e) => e.action === 'user.update')).toBe(true);

      const prefix = await admin.audit({ action: 'user.*', target: id });
      expect(prefix.map((e) => e.action)).toEqual(['user.disable', 'user.update', 'user.create']);
      expect(prefix.every((e) => e.actor.id === caller.clientId)).toBe(true);
      // "_" and "%" in a prefix are plain characters, not wildcards.
      expect(await admin.audit({ action: 'user_*', target: id })).toEqual([]);
      expect(await admin.audit({ action: 'u%*', target: id })).toEqual([]);
      expect((await admin.audit({ action: 'client.rotate_*' })).every((e) => e.action === 'client.rotate_secret')).toBe(true);
      // "user.*" is a prefix, "user." alone matches nothing (no action is literally "user.").
      expect(await admin.audit({ action: 'user.', target: id })).toEqual([]);

      const byTarget = await admin.audit({ target: id });
      expect(byTarget.every((e) => e.target?.id === id)).toBe(true);
      expect(byTarget).toHaveLength(3);

      const byActor = await admin.audit({ actor: caller.clientId });
      expect(byActor.length).toBeGreaterThan(3);
      expect(byActor.every((e) => e.actor.id === caller.clientId)).toBe(true);

      const failures = await admin.audit({ outcome: 'failure' });
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((e) => e.outcome === 'failure')).toBe(true);

      // since (inclusive) / until (exclusive), at the creation's timestamp.
      const created = prefix[2]!;
      const since = await admin.audit({ target: id, since: created.at as string });
      expect(since.map((e) => e.action)).toEqual(['user.disable', 'user.update', 'user.create']);
      const until = await admin.audit({ target: id, until: created.at as string });
      expect(until).toEqual([]);
      const disabledAt = prefix[0]!.at as string;
      const window = await admin.audit({ target: id, since: created.at as string, until: disabledAt });
      expect(window.map((e) => e.action)).toEqual(expect.arrayContaining(['user.create']));
      expect(window.map((e) => e.action)).not.toContain('user.disable');
      expect(await admin.audit({ target: id, since: new Date(Date.now() + 3_600_000).toISOString() })).toEqual([]);
    });

    it('pages with a cursor: newest first, no entry twice, none left out', async () => {
      for (let i = 0; i < 5; i += 1) expect((await admin.get(`/users/${f.userId}`)).status).toBe(200);
      const everything = await admin.audit({ action: 'admin.read', actor: caller.clientId });
      expect(everything.length).toBeGreaterThanOrEqual(5);

      const seen: Json[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: Record<string, string> = { action: 'admin.read', actor: caller.clientId, limit: '2', ...(cursor ? { cursor } : {}) };
        const r: { status: number; body: Json } = await admin.get(`/audit?${new URLSearchParams(q)}`);
        expect(r.status).toBe(200);
        expect(r.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...r.body.items);
        cursor = r.body.nextCursor as string | null;
        pages += 1;
      } while (cursor && pages < 500);
      // Each page is itself read and audited, after it was listed: compare what existed before.
      const ids = seen.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      const first = new Set(everything.map((e) => e.id));
      expect(ids.filter((x) => first.has(x))).toEqual(everything.map((e) => e.id));
      const times = seen.map((e) => Date.parse(e.at as string));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it('rejects bad filters with 400 naming the field', async () => {
      const far = Buffer.from(JSON.stringify([1e20, 'x'])).toString('base64url');
      const negative = Buffer.from(JSON.stringify([-8e15, 'x'])).toString('base64url');
      const cases: [string, string][] = [
        ['limit=0', 'limit'],
        ['limit=201', 'limit'],
        ['cursor=not-a-cursor', 'cursor'],
        [`cursor=${far}`, 'cursor'],
        [`cursor=${negative}`, 'cursor'],
        [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'],
        ['since=yesterday', 'since'],
        ['since=2026-01-01', 'since'],
        ['until=2026-13-01T00:00:00Z', 'until'],
        ['outcome=maybe', 'outcome'],
        ['actions=login', 'actions'],
      ];
      for (const [query, field] of cases) {
        const r = await admin.get(`/audit?${query}`);
        expect(r.status, query).toBe(400);
        expect(r.body, query).toMatchObject(invalid(field));
      }
    });
  });

  it('serves live figures: sessions, users, clients, grants, logins and tokens per minute', async () => {
    const browser = new NamedBrowser('Figures');
    await login(config, browser, f, { scope: 'openid email' });
    await submitPassword(config, new NamedBrowser('Figures wrong'), { email: f.email, password: 'wrong password!' });
    const r = await admin.get('/stats');
    expect(r.status).toBe(200);
    const s = r.body;
    expect(Date.parse(s.at as string)).not.toBeNaN();
    expect(s.activeSessions).toBeGreaterThanOrEqual(1);
    expect(s.signedInUsers).toBeGreaterThanOrEqual(1);
    expect(s.signedInUsers).toBeLessThanOrEqual(s.activeSessions);
    expect(s.users).toBe((await admin.get('/users')).body.total);
    expect(s.clients).toBe((await admin.get('/clients')).body.items.length);
    expect(s.disabledUsers).toBeGreaterThanOrEqual(1); // filtered@example.com, disabled above
    expect(s.activeGrants).toBeGreaterThanOrEqual(1);
    expect(s.loginsLastHour.succeeded).toBeGreaterThanOrEqual(1);
    expect(s.loginsLastHour.failed).toBeGreaterThanOrEqual(1);
    expect(s.tokensPerMinute).toHaveLength(60);
    const minutes = (s.tokensPerMinute as Json[]).map((m) => Date.parse(m.minute as string));
    expect([...minutes].sort((a, b) => a - b)).toEqual(minutes);
    const issued = (s.tokensPerMinute as Json[]).reduce((sum, m) => sum + (m.issued as number), 0);
    const revoked = (s.tokensPerMinute as Json[]).reduce((sum, m) => sum + (m.revoked as number), 0);
    expect(issued).toBeGreaterThanOrEqual(3);
    expect(revoked).toBeGreaterThanOrEqual(1);
  });
});

describe('admin API: rate limit', () => {
  let server: TestServer;
  afterAll(async () => server?.cleanup());

  it('answers 429 with Retry-After to the 6th call in a minute with ADMIN_RATE_LIMIT=5', async () => {
    server = await startServer({ ADMIN_RATE_LIMIT: '5' });
    const caller = await adminCaller(server);
    for (let i = 1; i <= 5; i += 1) {
      const r = await call(server, caller.token, 'GET', '/stats');
      expect(r.status, `call ${i}`).toBe(200);
      expect(r.headers.get('ratelimit-remaining')).toBe(String(5 - i));
    }
    const limited = await call(server, caller.token, 'GET', '/stats');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Anonymous callers from the same address are limited too, before any token is looked at.
    expect((await call(server, null, 'GET', '/stats')).status).toBe(429);
    // The OpenAPI document is not.
    expect((await fetch(`${server.issuer}/admin/api/openapi.json`)).status).toBe(200);
  });
});
