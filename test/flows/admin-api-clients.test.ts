import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adminApi, adminCaller, invalid, NamedBrowser, tokenRequest, type AdminApi, type AdminCaller, type Json } from '../support/admin.js';
import { openDb, refreshWith } from '../support/flows.js';
import { discover, introspect, login, REDIRECT_URI, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const CONSOLE = 'tessera-console';

describe('admin API: clients and APIs', { timeout: 60_000 }, () => {
  let server: TestServer;
  let f: Fixture;
  let caller: AdminCaller;
  let admin: AdminApi;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    caller = await adminCaller(server);
    admin = adminApi(server, () => caller.token);
  });
  afterAll(async () => server?.cleanup());

  const actor = () => ({ type: 'client', id: caller.clientId });

  async function lastAudit(filter: Record<string, string>): Promise<Json> {
    const items = await admin.audit(filter);
    expect(items.length, `no audit entry for ${JSON.stringify(filter)}`).toBeGreaterThan(0);
    return items[0]!;
  }

  const machine = (name: string) => ({ client_name: name, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });

  /** A client_credentials token for the seeded opaque API (status and token). */
  async function ccToken(clientId: string, clientSecret: string): Promise<{ status: number; token?: string; error?: string }> {
    const r = await tokenRequest(server, { clientId, clientSecret }, { resource: f.opaqueApi, scope: 'read' });
    return { status: r.status, token: r.body.access_token as string | undefined, error: r.body.error as string | undefined };
  }

  describe('clients', () => {
    it('lists clients without any secret; the console\'s own client is among them', async () => {
      const r = await admin.get('/clients');
      expect(r.status).toBe(200);
      const ids = (r.body.items as Json[]).map((c) => c.client_id);
      expect(ids).toEqual(expect.arrayContaining([CONSOLE, f.web.clientId, f.rs.clientId, caller.clientId]));
      const text = JSON.stringify(r.body);
      for (const secret of [f.web.clientSecret, f.rs.clientSecret, caller.clientSecret]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/client_secret"|secretHash/);
      expect((r.body.items as Json[]).find((c) => c.client_id === f.web.clientId)).toMatchObject({ hasSecret: true, disabled: false, metadata: { client_name: 'Web App' } });
    });

    it('creates (201) from RFC 7591 metadata: the secret is shown once, works at /token, and is never shown again', async () => {
      const r = await admin.post('/clients', machine('Created By API'));
      expect(r.status).toBe(201);
      const id = r.body.client.client_id as string;
      const secret = r.body.client_secret as string;
      expect(typeof secret).toBe('string');
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(r.body.client).toMatchObject({ hasSecret: true, disabled: false, metadata: { client_name: 'Created By API', grant_types: ['client_credentials'] } });
      expect(JSON.stringify(r.body.client)).not.toContain(secret);

      const t = await ccToken(id, secret);
      expect(t.status).toBe(200);
      expect(await introspect(server, f.rs, t.token!)).toMatchObject({ active: true, client_id: id });

      const shown = await admin.get(`/clients/${id}`);
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ client_id: id, hasSecret: true });
      expect(JSON.stringify(shown.body)).not.toContain(secret);
      expect(JSON.stringify((await admin.get('/clients')).body)).not.toContain(secret);
      expect(JSON.stringify(await admin.audit())).not.toContain(secret);
      expect(await lastAudit({ action: 'client.create', target: id })).toMatchObject({ actor: actor(), target: { type: 'client', id }, details: { client_name: 'Created By API' } });

      // A public client (token_endpoint_auth_method none) gets no secret.
      const pub = await admin.post('/clients', { client_name: 'SPA', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
      expect(pub.status).toBe(201);
      expect(pub.body.client_secret).toBeUndefined();
      expect(pub.body.client.hasSecret).toBe(false);
    });

    it('updates (PATCH) metadata; the secret is kept and not shown', async () => {
      const c = await admin.post('/clients', machine('Before'));
      const id = c.body.client.client_id as string;
      const r = await admin.patch(`/clients/${id}`, { client_name: 'After', contacts: ['ops@example.com'] });
      expect(r.status).toBe(200);
      expect(r.body.client_secret).toBeUndefined();
      expect(r.body.client.metadata).toMatchObject({ client_name: 'After', contacts: ['ops@example.com'], grant_types: ['client_credentials'] });
      expect((await admin.get(`/clients/${id}`)).body.metadata.client_name).toBe('After');
      expect((await ccToken(id, c.body.client_secret as string)).status).toBe(200);
      expect(await lastAudit({ action: 'client.update', target: id })).toMatchObject({ actor: actor(), details: { fields: ['client_name', 'contacts'], secretIssued: false } });
    });

    it('switching to a secret-based authentication method issues a secret, shown once; switching away drops it', async () => {
      const c = await admin.post('/clients', machine('Switcher'));
      const id = c.body.client.client_id as string;
      const old = c.body.client_secret as string;
      const none = await admin.patch(`/clients/${id}`, { token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT_URI] });
      expect(none.status, JSON.stringify(none.body)).toBe(200);
      expect(none.body.client).toMatchObject({ hasSecret: false, metadata: { token_endpoint_auth_method: 'none' } });
      expect(none.body.client_secret).toBeUndefined();
      const back = await admin.patch(`/clients/${id}`, { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
      expect(back.status).toBe(200);
      const fresh = back.body.client_secret as string;
      expect(typeof fresh).toBe('string');
      expect(fresh).not.toBe(old);
      expect(back.body.client.hasSecret).toBe(true);
      expect((await ccToken(id, old)).status).toBe(401);
      expect((await ccToken(id, fresh)).status).toBe(200);
      expect(JSON.stringify((await admin.get(`/clients/${id}`)).body)).not.toContain(fresh);
      expect(await lastAudit({ action: 'client.update', target: id })).toMatchObject({ actor: actor(), details: { secretIssued: true } });
    });

    it('rejects bad client metadata with 400 naming the field, and changes nothing', async () => {
      const before = ((await admin.get('/clients')).body.items as Json[]).length;
      const bad: [string, unknown, string][] = [
        ['redirect_uris not URLs', { client_name: 'Bad', redirect_uris: ['not a url'] }, 'redirect_uris'],
        ['unsupported auth method', { ...machine('Bad'), token_endpoint_auth_method: 'client_secret_jwt' }, 'token_endpoint_auth_method'],
        ['a client_secret given', { ...machine('Bad'), client_secret: 'mine' }, 'client_secret'],
        ['grant_types not a list', { ...machine('Bad'), grant_types: 'client_credentials' }, 'grant_types'],
        // RFC 6749 §4.4: client_credentials is for confidential clients only.
        ['a public client with client_credentials', { ...machine('Bad'), token_endpoint_auth_method: 'none' }, 'grant_types'],
      ];
      for (const [what, body, field] of bad) {
        const r = await admin.post('/clients', body);
        expect(r.status, what).toBe(400);
        expect(r.body, what).toMatchObject(invalid(field));
      }
      const notObject = await admin.post('/clients', ['redirect_uris']);
      expect(notObject.status).toBe(400);
      expect(notObject.body).toMatchObject(invalid('body'));
      expect(((await admin.get('/clients')).body.items as Json[]).length).toBe(before);

      const patched = await admin.patch(`/clients/${f.web.clientId}`, { redirect_uris: ['not a url'] });
      expect(patched.status).toBe(400);
      expect(patched.body).toMatchObject(invalid('redirect_uris'));
      const publicMachine = await admin.patch(`/clients/${f.rs.clientId}`, { token_endpoint_auth_method: 'none' });
      expect(publicMachine.status).toBe(400);
      expect(publicMachine.body).toMatchObject(invalid('grant_types'));
      expect((await admin.get(`/clients/${f.rs.clientId}`)).body.metadata.token_endpoint_auth_method).toBe('client_secret_basic');
      const changeId = await admin.patch(`/clients/${f.web.clientId}`, { client_id: 'another-id' });
      expect(changeId.status).toBe(400);
      expect(changeId.body).toMatchObject(invalid('client_id'));
      expect((await admin.get(`/clients/${f.web.clientId}`)).body.metadata.redirect_uris).toEqual([REDIRECT_URI]);
    });

    it('a public client stored with client_credentials before that was refused still gets no token', async () => {
      const created = await admin.post('/clients', machine('Stored Before The Fix'));
      const id = created.body.client.client_id as string;
      const db = await openDb(server);
      try {
        const metadata = JSON.stringify({ client_name: 'Stored Before The Fix', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'none' });
        expect(await db.run('UPDATE "Client" SET metadata = $1, "secretHash" = NULL WHERE "clientId" = $2', [metadata, id])).toBe(1);
      } finally {
        await db.close();
      }
      const ask = () => fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, resource: f.opaqueApi, scope: 'read' }),
      });
      // The server sees the changed row within CLIENT_CACHE_MS; until then the old secret-based
      // registration refuses a request without a secret anyway.
      const deadline = Date.now() + 5000;
      let res = await ask();
      while (Date.now() < deadline && res.status === 401) res = await ask();
      const body = (await res.json()) as { error?: string; access_token?: string };
      expect(body.access_token).toBeUndefined();
      expect(body, JSON.stringify(body)).toMatchObject({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    });

    it('rotates the secret: the new one works at /token, the old one stops working', async () => {
      const c = await admin.post('/clients', machine('Rotated'));
      const id = c.body.client.client_id as string;
      const old = c.body.client_secret as string;
      expect((await ccToken(id, old)).status).toBe(200);
      const r = await admin.post(`/clients/${id}/secret`);
      expect(r.status).toBe(200);
      expect(r.body.client_id).toBe(id);
      const fresh = r.body.client_secret as string;
      expect(fresh).not.toBe(old);
      const stale = await ccToken(id, old);
      expect(stale.status).toBe(401);
      expect(stale.error).toBe('invalid_client');
      expect((await ccToken(id, fresh)).status).toBe(200);
      expect(JSON.stringify((await admin.get(`/clients/${id}`)).body)).not.toContain(fresh);
      expect(await lastAudit({ action: 'client.rotate_secret', target: id })).toMatchObject({ actor: actor() });
      expect(JSON.stringify(await admin.audit({ target: id }))).not.toContain(fresh);
    });

    it('disabling a client revokes its tokens (also its users\') at once; enabling does not bring them back', async () => {
      const c = await admin.post('/clients', {
        client_name: 'Disabled App', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      const id = c.body.client.client_id as string;
      const secret = c.body.client_secret as string;
      const machineToken = (await ccToken(id, secret)).token!;
      const config = await discover(server, { clientId: id, clientSecret: secret });
      const user = await login(config, new NamedBrowser('Disable Test'), f, { scope: 'openid email' });
      expect(await userinfoStatus(server, user.access_token)).toBe(200);

      const r = await admin.post(`/clients/${id}/disable`);
      expect(r.status).toBe(200);
      expect(r.body.client).toMatchObject({ client_id: id, disabled: true });
      expect(r.body.revoked).toMatchObject({ grants: 1 });
      expect(r.body.revoked.tokens).toBeGreaterThanOrEqual(3);
      expect(await introspect(server, f.rs, machineToken)).toEqual({ active: false });
      expect(await introspect(server, f.rs, user.access_token)).toEqual({ active: false });
      expect(await introspect(server, f.rs, user.refresh_token!, 'refresh_token')).toEqual({ active: false });
      expect(await userinfoStatus(server, user.access_token)).toBe(401);
      expect((await ccToken(id, secret)).status).toBe(401);
      expect(await lastAudit({ action: 'client.disable', target: id })).toMatchObject({
        actor: actor(), reason: 'client disabled', details: { grants: 1, tokens: r.body.revoked.tokens },
      });

      const e = await admin.post(`/clients/${id}/enable`);
      expect(e.status).toBe(200);
      expect(e.body.client.disabled).toBe(false);
      expect(await lastAudit({ action: 'client.enable', target: id })).toMatchObject({ actor: actor() });
      expect(await introspect(server, f.rs, machineToken)).toEqual({ active: false });
      expect(await introspect(server, f.rs, user.access_token)).toEqual({ active: false });
      expect((await refreshWith(config, user.refresh_token!)).error).toBe('invalid_grant');
      expect((await ccToken(id, secret)).status).toBe(200);
    });

    it('deletes a client: its tokens die and its secret stops working', async () => {
      const c = await admin.post('/clients', machine('Deleted'));
      const id = c.body.client.client_id as string;
      const secret = c.body.client_secret as string;
      const token = (await ccToken(id, secret)).token!;
      const r = await admin.delete(`/clients/${id}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ deleted: true, revoked: { tokens: 1 } });
      expect(await introspect(server, f.rs, token)).toEqual({ active: false });
      expect((await ccToken(id, secret)).status).toBe(401);
      expect((await admin.get(`/clients/${id}`)).status).toBe(404);
      expect(await lastAudit({ action: 'client.delete', target: id })).toMatchObject({ actor: actor(), reason: 'client deleted', details: { tokens: 1 } });
    });

    it('protects the console\'s own client (409) and answers 404 for unknown clients', async () => {
      for (const [what, run] of [
        ['delete', () => admin.delete(`/clients/${CONSOLE}`)],
        ['disable', () => admin.post(`/clients/${CONSOLE}/disable`)],
        ['rotate', () => admin.post(`/clients/${CONSOLE}/secret`)],
        ['patch', () => admin.patch(`/clients/${CONSOLE}`, { client_name: 'mine now' })],
      ] as const) {
        const r = await run();
        expect(r.status, what).toBe(409);
        expect(r.body, what).toMatchObject({ error: 'conflict' });
      }
      expect((await admin.get(`/clients/${CONSOLE}`)).body).toMatchObject({ client_id: CONSOLE, disabled: false });

      for (const [what, run] of [
        ['get', () => admin.get('/clients/no-such-client')],
        ['patch', () => admin.patch('/clients/no-such-client', { client_name: 'x' })],
        ['delete', () => admin.delete('/clients/no-such-client')],
        ['disable', () => admin.post('/clients/no-such-client/disable')],
        ['enable', () => admin.post('/clients/no-such-client/enable')],
        ['rotate', () => admin.post('/clients/no-such-client/secret')],
      ] as const) {
        const r = await run();
        expect(r.status, what).toBe(404);
        expect(r.body, what).toMatchObject({ error: 'not_found' });
      }
    });
  });

  describe('APIs', () => {
    const identifier = 'https://billing.example.com/v1/invoices?tenant=a b';
    const path = `/apis/${encodeURIComponent(identifier)}`;

    it('creates (201), lists, shows and updates an API addressed by its percent-encoded identifier, and tokens follow it', async () => {
      const created = await admin.post('/apis', { identifier, name: 'Billing', scopes: ['invoices:read', 'invoices:write'] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ identifier, name: 'Billing', scopes: ['invoices:read', 'invoices:write'], accessTokenFormat: 'jwt', accessTokenTTL: 300 });
      expect(await lastAudit({ action: 'api.create', target: identifier })).toMatchObject({ actor: actor(), target: { type: 'api', id: identifier } });

      const listed = await admin.get('/apis');
      expect(listed.status).toBe(200);
      expect((listed.body.items as Json[]).map((a) => a.identifier)).toEqual(expect.arrayContaining([f.jwtApi, f.opaqueApi, identifier]));

      const shown = await admin.get(path);
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ identifier, name: 'Billing' });

      // A client may now ask for the API by its identifier.
      const jwt = await tokenRequest(server, f.rs, { resource: identifier, scope: 'invoices:read' });
      expect(jwt.status).toBe(200);
      expect((jwt.body.access_token as string).split('.')).toHaveLength(3);

      const updated = await admin.patch(path, { name: 'Billing v1', scopes: ['invoices:read'], accessTokenFormat: 'opaque', accessTokenTTL: 120 });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ identifier, name: 'Billing v1', scopes: ['invoices:read'], accessTokenFormat: 'opaque', accessTokenTTL: 120 });
      expect((await admin.get(path)).body).toMatchObject({ name: 'Billing v1', accessTokenFormat: 'opaque' });
      expect(await lastAudit({ action: 'api.update', target: identifier })).toMatchObject({ actor: actor(), details: { fields: ['name', 'scopes', 'accessTokenFormat', 'accessTokenTTL'] } });
      const opaque = await tokenRequest(server, f.rs, { resource: identifier, scope: 'invoices:read' });
      expect(opaque.status).toBe(200);
      expect((opaque.body.access_token as string).split('.')).not.toHaveLength(3);
      expect(opaque.body.expires_in).toBe(120);
    });

    it('answers 409 for a duplicate API, 400 for bad input (naming the field), 404 for an unknown one', async () => {
      const id = 'https://dup.example.com';
      expect((await admin.post('/apis', { identifier: id })).status).toBe(201);
      const dup = await admin.post('/apis', { identifier: id, scopes: ['x'] });
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ error: 'conflict', field: 'identifier' });

      const before = ((await admin.get('/apis')).body.items as Json[]).length;
      const bad: [string, unknown, string][] = [
        ['not a URI', { identifier: 'not a uri' }, 'identifier'],
        ['a fragment', { identifier: 'https://frag.example.com/#x' }, 'identifier'],
        ['missing identifier', { name: 'No id' }, 'identifier'],
        ['bad scope token', { identifier: 'https://s.example.com', scopes: ['has space'] }, 'scopes.0'],
        ['bad format', { identifier: 'https://f.example.com', accessTokenFormat: 'paseto' }, 'accessTokenFormat'],
        ['TTL too short', { identifier: 'https://t.example.com', accessTokenTTL: 1 }, 'accessTokenTTL'],
      ];
      for (const [what, body, field] of bad) {
        const r = await admin.post('/apis', body);
        expect(r.status, what).toBe(400);
        expect(r.body, what).toMatchObject(invalid(field));
      }
      const unknownField = await admin.post('/apis', { identifier: 'https://u.example.com', audience: 'x' });
      expect(unknownField.status).toBe(400);
      expect(unknownField.body).toMatchObject(invalid('audience'));
      expect(((await admin.get('/apis')).body.items as Json[]).length).toBe(before);

      const badPatch = await admin.patch(`/apis/${encodeURIComponent(id)}`, { identifier: 'https://renamed.example.com' });
      expect(badPatch.status).toBe(400);
      expect(badPatch.body).toMatchObject(invalid('identifier'));
      expect((await admin.get(`/apis/${encodeURIComponent(id)}`)).status).toBe(200);

      const unknown = `/apis/${encodeURIComponent('https://nowhere.example.com')}`;
      for (const r of [await admin.get(unknown), await admin.patch(unknown, { name: 'x' }), await admin.delete(unknown)]) {
        expect(r.status).toBe(404);
        expect(r.body).toMatchObject({ error: 'not_found' });
      }
    });

    it('deletes an API: it is gone, and tokens can no longer be asked for it', async () => {
      const id = 'https://gone.example.com/api';
      expect((await admin.post('/apis', { identifier: id, scopes: ['read'] })).status).toBe(201);
      const r = await admin.delete(`/apis/${encodeURIComponent(id)}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ deleted: true });
      expect((await admin.get(`/apis/${encodeURIComponent(id)}`)).status).toBe(404);
      expect((await tokenRequest(server, f.rs, { resource: id, scope: 'read' })).body.error).toBe('invalid_target');
      expect(await lastAudit({ action: 'api.delete', target: id })).toMatchObject({ actor: actor(), target: { type: 'api', id } });
    });
  });
});
