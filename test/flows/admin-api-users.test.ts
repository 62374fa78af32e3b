import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adminApi, adminCaller, invalid, NamedBrowser, type AdminApi, type AdminCaller, type Json } from '../support/admin.js';
import { createWebClient, refreshWith } from '../support/flows.js';
import { discover, introspect, login, logout, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { expectTokensAlive, expectTokensDead } from '../support/session-tokens.js';

interface SessionTokens {
  browser: NamedBrowser;
  idToken: string;
  /** Opaque, for userinfo. */
  userinfo: string;
  /** A JWT for the seeded API. */
  jwt: string;
  refresh: string[];
}

const isDate = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v));

describe('admin API: users, their sessions and grants', { timeout: 60_000 }, () => {
  let server: TestServer;
  let f: Fixture;
  let config: oidc.Configuration;
  let caller: AdminCaller;
  let admin: AdminApi;
  let n = 0;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    config = await discover(server, f.web);
    caller = await adminCaller(server);
    admin = adminApi(server, () => caller.token);
  });
  afterAll(async () => server?.cleanup());

  const actor = () => ({ type: 'client', id: caller.clientId });

  async function newUser(prefix: string, roles: string[] = []): Promise<{ id: string; email: string; password: string }> {
    n += 1;
    const email = `${prefix}-${n}@users.example`;
    const password = `${prefix} password ${n}`;
    const r = await admin.post('/users', { email, password, roles });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id: r.body.id as string, email, password };
  }

  /** One browser session: an opaque userinfo token and a JWT for the API, each with its refresh token. */
  async function session(user: { email: string; password: string }, cfg = config, browser = new NamedBrowser(`AdminApiTest/${n}`)): Promise<SessionTokens> {
    const ui = await login(cfg, browser, user, { scope: 'openid email' });
    const api = await login(cfg, browser, user, { scope: 'openid read', resource: f.jwtApi });
    expect(api.access_token.split('.')).toHaveLength(3);
    return { browser, idToken: ui.id_token!, userinfo: ui.access_token, jwt: api.access_token, refresh: [ui.refresh_token!, api.refresh_token!] };
  }

  const expectAlive = (s: SessionTokens) => expectTokensAlive(server, f, s);
  /** Right after the admin call: every token inactive, userinfo 401, refresh invalid_grant. */
  const expectDead = (s: SessionTokens, cfg = config) => expectTokensDead(server, f, cfg, s);

  async function lastAudit(filter: Record<string, string>): Promise<Json> {
    const items = await admin.audit(filter);
    expect(items.length, `no audit entry for ${JSON.stringify(filter)}`).toBeGreaterThan(0);
    return items[0]!;
  }

  describe('CRUD', () => {
    it('creates (201), shows, updates e-mail and roles, disables, enables, sets the password and deletes a user, each audited with its actor', async () => {
      const created = await admin.post('/users', { email: 'Carol@Users.Example', password: 'carol password 1', roles: ['support'] });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.body).toMatchObject({ email: 'carol@users.example', roles: ['support'], disabled: false, lastLoginAt: null, lastLogoutAt: null });
      expect(JSON.stringify(created.body)).not.toMatch(/password|argon2/i);
      const id = created.body.id as string;
      expect(await lastAudit({ action: 'user.create', target: id })).toMatchObject({
        action: 'user.create', outcome: 'success', actor: actor(), target: { type: 'user', id }, details: { email: 'carol@users.example', roles: ['support'] },
      });

      const shown = await admin.get(`/users/${id}`);
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ id, email: 'carol@users.example', sessions: 0, grants: 0, lastLoginAt: null, lastLogoutAt: null });
      expect(isDate(shown.body.createdAt)).toBe(true);

      const updated = await admin.patch(`/users/${id}`, { email: 'carol.new@users.example', roles: ['support', 'billing'] });
      expect(updated.status).toBe(200);
      expect(updated.body.user).toMatchObject({ id, email: 'carol.new@users.example', roles: ['support', 'billing'] });
      expect((await admin.get(`/users/${id}`)).body).toMatchObject({ email: 'carol.new@users.example', roles: ['support', 'billing'] });
      expect(await lastAudit({ action: 'user.update', target: id })).toMatchObject({
        actor: actor(),
        details: { email: { from: 'carol@users.example', to: 'carol.new@users.example' }, roles: { from: ['support'], to: ['support', 'billing'] } },
      });

      const disabled = await admin.post(`/users/${id}/disable`);
      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({ user: { id, disabled: true }, revoked: { grants: 0, sessions: 0, tokens: 0 } });
      expect(await lastAudit({ action: 'user.disable', target: id })).toMatchObject({ actor: actor(), reason: 'account disabled' });
      // A disabled user cannot sign in.
      await expect(login(config, new NamedBrowser('x'), { email: 'carol.new@users.example', password: 'carol password 1' })).rejects.toThrow();

      const enabled = await admin.post(`/users/${id}/enable`);
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({ user: { id, disabled: false } });
      expect(enabled.body.revoked).toBeUndefined();
      expect(await lastAudit({ action: 'user.enable', target: id })).toMatchObject({ actor: actor() });

      // PATCH {disabled} is the same as disable / enable.
      expect((await admin.patch(`/users/${id}`, { disabled: true })).body).toMatchObject({ user: { disabled: true }, revoked: { grants: 0 } });
      expect((await admin.patch(`/users/${id}`, { disabled: false })).body).toMatchObject({ user: { disabled: false } });

      const password = await admin.put(`/users/${id}/password`, { password: 'carol password 2' });
      expect(password.status).toBe(200);
      expect(password.body).toEqual({ revoked: { grants: 0, sessions: 0, tokens: 0 } });
      expect(await lastAudit({ action: 'user.password', target: id })).toMatchObject({ actor: actor(), reason: 'password changed' });
      expect(JSON.stringify(await admin.audit({ target: id }))).not.toContain('carol password');
      // The new password works, the old one does not.
      const t = await login(config, new NamedBrowser('x'), { email: 'carol.new@users.example', password: 'carol password 2' });
      expect(await introspect(server, f.rs, t.access_token)).toMatchObject({ active: true });
      expect((await admin.get(`/users/${id}`)).body.lastLoginAt).not.toBeNull();

      const deleted = await admin.delete(`/users/${id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ deleted: true, revoked: { sessions: 1, grants: 1 } });
      expect(deleted.body.revoked.tokens).toBeGreaterThanOrEqual(1);
      expect(await introspect(server, f.rs, t.access_token)).toEqual({ active: false });
      expect(await lastAudit({ action: 'user.delete', target: id })).toMatchObject({ actor: actor(), reason: 'account deleted', details: { sessions: 1, grants: 1 } });
      expect((await admin.get(`/users/${id}`)).status).toBe(404);
    });

    it('lists and searches users a page at a time with a cursor and the total', async () => {
      const emails: string[] = [];
      for (const name of ['erin', 'dave', 'frank', 'bob', 'alma']) {
        const r = await admin.post('/users', { email: `${name}@paging.example`, password: 'paging password' });
        expect(r.status).toBe(201);
        emails.push(`${name}@paging.example`);
      }
      emails.sort();
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: { status: number; body: Json } = await admin.get(`/users?${new URLSearchParams({ q: 'PAGING.example', limit: '2', ...(cursor ? { cursor } : {}) })}`);
        expect(r.status).toBe(200);
        expect(r.body.total).toBe(5);
        expect(r.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...r.body.items.map((u: Json) => u.email as string));
        cursor = r.body.nextCursor as string | null;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(emails);

      const all = await admin.get('/users');
      expect(all.status).toBe(200);
      expect(all.body.total).toBeGreaterThanOrEqual(6);
      expect(all.body.nextCursor).toBeNull();
      expect(all.body.items.map((u: Json) => u.email)).toContain(f.email);
      expect(JSON.stringify(all.body)).not.toMatch(/passwordHash|argon2/);

      const none = await admin.get('/users?q=nobody-here');
      expect(none.body).toEqual({ items: [], total: 0, nextCursor: null });

      // "%" and "_" are matched literally, not as SQL LIKE wildcards.
      for (const q of ['%', '_', 'p_ging', '%paging%']) {
        expect((await admin.get(`/users?${new URLSearchParams({ q })}`)).body, q).toEqual({ items: [], total: 0, nextCursor: null });
      }
      const underscore = await admin.post('/users', { email: 'under_score@paging.example', password: 'paging password' });
      expect(underscore.status).toBe(201);
      const literal = await admin.get(`/users?${new URLSearchParams({ q: 'r_s', limit: '1' })}`);
      expect(literal.body).toMatchObject({ total: 1, nextCursor: null, items: [{ email: 'under_score@paging.example' }] });
    });

    it('rejects bad input with 400 naming the field, and changes nothing', async () => {
      const before = (await admin.get('/users')).body.total as number;
      const cases: [string, () => ReturnType<AdminApi['get']>, string][] = [
        ['bad e-mail', () => admin.post('/users', { email: 'not-an-email', password: 'long enough pw' }), 'email'],
        ['short password', () => admin.post('/users', { email: 'short@users.example', password: 'short' }), 'password'],
        ['unknown field', () => admin.post('/users', { email: 'u@users.example', password: 'long enough pw', admin: true }), 'admin'],
        ['bad role name', () => admin.post('/users', { email: 'r@users.example', password: 'long enough pw', roles: ['Admin!'] }), 'roles.0'],
        ['roles not a list', () => admin.post('/users', { email: 'r@users.example', password: 'long enough pw', roles: 'admin' }), 'roles'],
        ['missing password', () => admin.post('/users', { email: 'm@users.example' }), 'password'],
        ['JSON array body', () => admin.post('/users', [1, 2]), 'body'],
        ['non-JSON content type', () => admin.raw('POST', '/users', 'email=x@users.example&password=long+enough+pw', 'application/x-www-form-urlencoded'), 'body'],
        ['malformed JSON', () => admin.raw('POST', '/users', '{"email": "j@users.example", "password": '), 'body'],
        ['JSON string body', () => admin.raw('POST', '/users', '"j@users.example"'), 'body'],
        ['limit=0', () => admin.get('/users?limit=0'), 'limit'],
        ['limit too big', () => admin.get('/users?limit=201'), 'limit'],
        ['limit not a number', () => admin.get('/users?limit=ten'), 'limit'],
        ['unknown query parameter', () => admin.get('/users?sort=email'), 'sort'],
        ['bad cursor', () => admin.get('/users?cursor=%21%21not-a-cursor'), 'cursor'],
      ];
      for (const [what, run, field] of cases) {
        const r = await run();
        expect(r.status, what).toBe(400);
        expect(r.body, what).toMatchObject(invalid(field));
      }
      const huge = await admin.raw('POST', '/users', JSON.stringify({ email: `${'x'.repeat(70_000)}@users.example`, password: 'long enough pw' }));
      expect(huge.status).toBe(413);
      expect(huge.body).toMatchObject(invalid('body'));
      const id = (await newUser('valid')).id;
      const patches: [string, unknown, string][] = [
        ['bad e-mail', { email: 'nope' }, 'email'],
        ['bad role', { roles: ['UPPER'] }, 'roles.0'],
        ['unknown field', { password: 'long enough pw' }, 'password'],
        ['disabled not boolean', { disabled: 'yes' }, 'disabled'],
      ];
      for (const [what, body, field] of patches) {
        const r = await admin.patch(`/users/${id}`, body);
        expect(r.status, what).toBe(400);
        expect(r.body, what).toMatchObject(invalid(field));
      }
      const pw = await admin.put(`/users/${id}/password`, { password: '1234567' });
      expect(pw.status).toBe(400);
      expect(pw.body).toMatchObject(invalid('password'));
      // Nothing changed.
      expect((await admin.get('/users')).body.total).toBe(before + 1);
      expect((await admin.get(`/users/${id}`)).body).toMatchObject({ email: `valid-${n}@users.example`, roles: [], disabled: false });
    });

    it('answers 404 for an unknown user, session or grant', async () => {
      const id = (await newUser('known')).id;
      const unknown = '00000000-0000-4000-8000-000000000000';
      for (const [method, path] of [
        ['get', `/users/${unknown}`], ['patch', `/users/${unknown}`], ['delete', `/users/${unknown}`],
        ['post', `/users/${unknown}/disable`], ['post', `/users/${unknown}/enable`], ['post', `/users/${unknown}/signout`],
        ['get', `/users/${unknown}/sessions`], ['get', `/users/${unknown}/grants`],
        ['delete', `/users/${id}/sessions/no-such-session`], ['delete', `/users/${id}/grants/no-such-grant`],
      ] as const) {
        const r = method === 'patch' ? await admin.patch(path, { roles: [] }) : await admin[method](path);
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body, `${method} ${path}`).toMatchObject({ error: 'not_found' });
      }
      expect((await admin.put(`/users/${unknown}/password`, { password: 'long enough pw' })).status).toBe(404);
    });

    it('answers 409 for a duplicate e-mail, on create and on update', async () => {
      const a = await newUser('dup');
      const b = await newUser('dup');
      const again = await admin.post('/users', { email: a.email.toUpperCase(), password: 'long enough pw' });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: 'conflict', field: 'email' });
      const taken = await admin.patch(`/users/${b.id}`, { email: a.email });
      expect(taken.status).toBe(409);
      expect((await admin.get(`/users/${b.id}`)).body.email).toBe(b.email);
    });

    it('refuses (409) to disable, delete or demote the last enabled admin', async () => {
      // Users created earlier in this file have no admin role: the first admin is the only one.
      const first = await newUser('admin', ['admin']);
      for (const [what, run] of [
        ['disable', () => admin.post(`/users/${first.id}/disable`)],
        ['PATCH disabled', () => admin.patch(`/users/${first.id}`, { disabled: true })],
        ['demote', () => admin.patch(`/users/${first.id}`, { roles: ['support'] })],
        ['delete', () => admin.delete(`/users/${first.id}`)],
      ] as const) {
        const r = await run();
        expect(r.status, what).toBe(409);
        expect(r.body, what).toMatchObject({ error: 'conflict', error_description: expect.stringMatching(/last enabled admin/) });
      }
      expect((await admin.get(`/users/${first.id}`)).body).toMatchObject({ roles: ['admin'], disabled: false });

      // With a second admin, the first may go.
      const second = await newUser('admin', ['admin']);
      expect((await admin.patch(`/users/${first.id}`, { roles: [] })).status).toBe(200);
      // Now the second is the last one.
      expect((await admin.delete(`/users/${second.id}`)).status).toBe(409);
      // A disabled admin does not count.
      expect((await admin.patch(`/users/${first.id}`, { roles: ['admin'] })).status).toBe(200);
      expect((await admin.post(`/users/${first.id}/disable`)).status).toBe(200);
      expect((await admin.post(`/users/${second.id}/disable`)).status).toBe(409);
      expect((await admin.post(`/users/${first.id}/enable`)).status).toBe(200);
      expect((await admin.delete(`/users/${second.id}`)).status).toBe(200);
    });
  });

  describe('sessions and grants after a real sign-in', () => {
    it('lists the session (device, IP, created, last active, applications) and the grant (scopes, APIs, tokens outstanding)', async () => {
      const user = await newUser('seen');
      const browser = new NamedBrowser('AdminApiTest/Firefox-ish 1.0');
      const s = await session(user, config, browser);
      await expectAlive(s);

      const sessions = await admin.get(`/users/${user.id}/sessions`);
      expect(sessions.status).toBe(200);
      expect(sessions.body.items).toHaveLength(1);
      const view = sessions.body.items[0] as Json;
      expect(view.userAgent).toBe('AdminApiTest/Firefox-ish 1.0');
      expect(view.ip).toMatch(/127\.0\.0\.1/);
      expect(isDate(view.createdAt)).toBe(true);
      expect(isDate(view.lastActiveAt)).toBe(true);
      expect(isDate(view.loginAt)).toBe(true);
      expect(view.clients).toEqual([{ clientId: f.web.clientId, clientName: 'Web App', grantId: expect.any(String) }]);

      const grants = await admin.get(`/users/${user.id}/grants`);
      expect(grants.status).toBe(200);
      expect(grants.body.items).toHaveLength(1);
      const grant = grants.body.items[0] as Json;
      expect(grant).toMatchObject({ id: view.clients[0].grantId, clientId: f.web.clientId, clientName: 'Web App', sessionIds: [view.id] });
      expect(grant.scopes).toEqual(expect.arrayContaining(['openid', 'email']));
      expect(grant.apis).toEqual([{ identifier: f.jwtApi, scopes: ['read'] }]);
      expect(isDate(grant.createdAt)).toBe(true);
      // Two access tokens (opaque for userinfo, JWT for the API) and two refresh tokens.
      expect(grant.tokensOutstanding).toBe(4);

      const shown = await admin.get(`/users/${user.id}`);
      expect(shown.body).toMatchObject({ sessions: 1, grants: 1 });
      expect(isDate(shown.body.lastLoginAt)).toBe(true);
      expect(shown.body.lastLogoutAt).toBeNull();

      // Signing out (RP-initiated logout) is recorded too.
      const out = await logout(config, browser, { idToken: s.idToken });
      expect(out.status).toBe(303);
      const after = await admin.get(`/users/${user.id}`);
      expect(after.body).toMatchObject({ sessions: 0, grants: 0 });
      expect(isDate(after.body.lastLogoutAt)).toBe(true);
      expect((await admin.get(`/users/${user.id}/sessions`)).body.items).toEqual([]);
      expect((await admin.get(`/users/${user.id}/grants`)).body.items).toEqual([]);
    });

    it('DELETE session revokes that session like a logout: every token dead at the next request; another browser lives on', async () => {
      const user = await newUser('session');
      const a = await session(user, config, new NamedBrowser('Browser A'));
      const b = await session(user, config, new NamedBrowser('Browser B'));
      const sessions = (await admin.get(`/users/${user.id}/sessions`)).body.items as Json[];
      expect(sessions).toHaveLength(2);
      const sa = sessions.find((x) => x.userAgent === 'Browser A')!;

      const r = await admin.delete(`/users/${user.id}/sessions/${encodeURIComponent(sa.id as string)}`);
      expect(r.status).toBe(200);
      expect(r.body.revoked).toMatchObject({ sessions: 1, grants: 1, tokens: 4 });
      await expectDead(a);
      await expectAlive(b);
      expect((await admin.get(`/users/${user.id}/sessions`)).body.items.map((x: Json) => x.userAgent)).toEqual(['Browser B']);
      expect(await lastAudit({ action: 'session.revoke', target: user.id })).toMatchObject({
        actor: actor(), target: { type: 'user', id: user.id }, details: { session: sa.id, sessions: 1, grants: 1, tokens: 4 },
      });
      // Revoking it again: it is gone.
      expect((await admin.delete(`/users/${user.id}/sessions/${encodeURIComponent(sa.id as string)}`)).status).toBe(404);
      // Another user's session id is not found under this user.
      const other = await newUser('other');
      expect((await admin.delete(`/users/${other.id}/sessions/${encodeURIComponent((sessions.find((x) => x.userAgent === 'Browser B')!).id as string)}`)).status).toBe(404);
      await expectAlive(b);
    });

    it('DELETE grant revokes that grant and its tokens; the user\'s other grants live on', async () => {
      const user = await newUser('grant');
      const otherClient = await createWebClient(server, 'Other App');
      const otherConfig = await discover(server, otherClient);
      const browser = new NamedBrowser('Grant Browser');
      const s = await session(user, config, browser);
      const o = await session(user, otherConfig, browser);
      const grants = (await admin.get(`/users/${user.id}/grants`)).body.items as Json[];
      expect(grants.map((g) => g.clientName).sort()).toEqual(['Other App', 'Web App']);
      const web = grants.find((g) => g.clientId === f.web.clientId)!;

      // Another user's grant id is not found under this user.
      const stranger = await newUser('stranger');
      expect((await admin.delete(`/users/${stranger.id}/grants/${encodeURIComponent(web.id as string)}`)).status).toBe(404);
      await expectAlive(s);

      const r = await admin.delete(`/users/${user.id}/grants/${encodeURIComponent(web.id as string)}`);
      expect(r.status).toBe(200);
      expect(r.body.revoked).toMatchObject({ grants: 1, tokens: 4 });
      await expectDead(s);
      await expectAlive(o);
      expect((await refreshWith(otherConfig, o.refresh[0]!)).error).toBeUndefined();
      expect((await admin.get(`/users/${user.id}/grants`)).body.items.map((g: Json) => g.clientId)).toEqual([otherClient.clientId]);
      // The browser session itself lives on.
      expect((await admin.get(`/users/${user.id}/sessions`)).body.items).toHaveLength(1);
      expect(await lastAudit({ action: 'grant.revoke', target: user.id })).toMatchObject({
        actor: actor(), details: { grant: web.id, client: f.web.clientId, grants: 1, tokens: 4 },
      });
    });

    it('POST signout signs the user out everywhere: every browser\'s tokens dead at the next request', async () => {
      const user = await newUser('signout');
      const a = await session(user, config, new NamedBrowser('A'));
      const b = await session(user, config, new NamedBrowser('B'));
      const bystander = await session(f, config, new NamedBrowser('Alice'));
      const r = await admin.post(`/users/${user.id}/signout`);
      expect(r.status).toBe(200);
      expect(r.body.revoked).toMatchObject({ sessions: 2, grants: 2, tokens: 8 });
      await expectDead(a);
      await expectDead(b);
      await expectAlive(bystander);
      expect((await admin.get(`/users/${user.id}`)).body).toMatchObject({ sessions: 0, grants: 0 });
      expect(await lastAudit({ action: 'user.signout', target: user.id })).toMatchObject({ actor: actor(), details: { sessions: 2, grants: 2, tokens: 8 } });
    });

    it('disabling a user revokes everything at once, and enabling does not bring the tokens back', async () => {
      const user = await newUser('disable');
      const s = await session(user);
      const r = await admin.post(`/users/${user.id}/disable`);
      expect(r.status).toBe(200);
      expect(r.body.revoked).toMatchObject({ sessions: 1, grants: 1, tokens: 4 });
      await expectDead(s);
      expect(await lastAudit({ action: 'user.disable', target: user.id })).toMatchObject({ actor: actor(), details: { sessions: 1, grants: 1, tokens: 4 } });
      expect((await admin.post(`/users/${user.id}/enable`)).status).toBe(200);
      await expectDead(s);
    });

    it('setting a password revokes everything at once', async () => {
      const user = await newUser('password');
      const s = await session(user);
      const r = await admin.put(`/users/${user.id}/password`, { password: 'a brand new password' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ revoked: { sessions: 1, grants: 1, tokens: 4 } });
      await expectDead(s);
      expect(await lastAudit({ action: 'user.password', target: user.id })).toMatchObject({ actor: actor(), details: { sessions: 1, grants: 1, tokens: 4 } });
      // The browser must sign in again, with the new password.
      await expect(login(config, new NamedBrowser('old'), user)).rejects.toThrow();
      const again = await login(config, new NamedBrowser('new'), { email: user.email, password: 'a brand new password' });
      expect(await userinfoStatus(server, again.access_token)).toBe(200);
    });

    it('PATCH {disabled: true} revokes like disable', async () => {
      const user = await newUser('patch-disable');
      const s = await session(user);
      const r = await admin.patch(`/users/${user.id}`, { disabled: true });
      expect(r.status).toBe(200);
      expect(r.body.revoked).toMatchObject({ sessions: 1, grants: 1, tokens: 4 });
      await expectDead(s);
    });
  });
});
