import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { clientCredentials } from '../support/http.js';
import { discover, introspect, login, REDIRECT_URI, userinfoStatus } from '../support/rp.js';
import { cli, FAST_ARGON2, root, startServer, type CliResult, type TestServer } from '../support/server.js';

type Json = Record<string, unknown>;

function expectOk(r: CliResult): void {
  expect(r.code, `tessera failed: ${r.stderr}`).toBe(0);
  expect(r.stderr).toBe('');
}

/** A failed command: exit code, a message on stderr matching `message`, and no JSON on stdout. */
function expectFailure(r: CliResult, code: number, message: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
}

/**
 * The status of a client_credentials request once the server has seen a change the CLI made:
 * the server caches clients and learns of another process's changes within CLIENT_CACHE_MS
 * (100 ms here), so each check retries until then and fails only if the change never applies.
 */
async function settledStatus(issuer: string, client: { clientId: string; clientSecret: string }, expected: number): Promise<void> {
  await expect.poll(async () => (await clientCredentials(issuer, client)).status, { timeout: 5000, interval: 25 }).toBe(expected);
}

const committedMigrations = readdirSync(join(root, 'prisma', 'migrations'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

// Each CLI call is a process that opens the database: allow the longer scenarios time under load.
describe('tessera CLI against a running server', { timeout: 90_000 }, () => {
  let server: TestServer;
  let rs: { clientId: string; clientSecret: string };
  const run = (args: string[], stdin = ''): Promise<CliResult> => cli(server, args, stdin);
  const listJson = async (what: 'user' | 'client' | 'api'): Promise<Json[]> => {
    const r = await run([what, 'list']);
    expectOk(r);
    return r.json<Json[]>();
  };

  beforeAll(async () => {
    server = await startServer();
    const created = await run(['client', 'create'], JSON.stringify({
      client_name: 'Introspector',
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
    }));
    expectOk(created);
    const body = created.json<{ client_id: string; client_secret: string }>();
    rs = { clientId: body.client_id, clientSecret: body.client_secret };
  });
  afterAll(async () => server?.cleanup());

  describe('users', () => {
    it('create, list, show (by e-mail and id), disable, enable, delete', async () => {
      const created = await run(['user', 'create', '--email', 'Bob@Example.COM', '--password-stdin', '--role', 'admin'], 'bob password 1\n');
      expectOk(created);
      const bob = created.json();
      expect(bob).toMatchObject({ email: 'bob@example.com', disabled: false, roles: ['admin'], lastLoginAt: null, lastLogoutAt: null });
      expect(bob.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.stdout).not.toContain('bob password 1');
      expect(created.stdout).not.toMatch(/passwordHash|argon2/);

      const listed = await listJson('user');
      expect(listed.map((u) => u.email)).toContain('bob@example.com');
      expect(JSON.stringify(listed)).not.toMatch(/passwordHash|argon2/);

      const byEmail = await run(['user', 'show', 'BOB@example.com']);
      expectOk(byEmail);
      expect(byEmail.json()).toEqual(bob);
      const byId = await run(['user', 'show', String(bob.id)]);
      expectOk(byId);
      expect(byId.json()).toEqual(bob);

      const disabled = await run(['user', 'disable', 'bob@example.com']);
      expectOk(disabled);
      expect(disabled.json()).toMatchObject({ id: bob.id, disabled: true });
      expect(disabled.json()).toHaveProperty('revoked');
      expect((await run(['user', 'show', 'bob@example.com'])).json()).toMatchObject({ disabled: true });

      const enabled = await run(['user', 'enable', String(bob.id)]);
      expectOk(enabled);
      expect(enabled.json()).toMatchObject({ id: bob.id, disabled: false });

      const deleted = await run(['user', 'delete', 'bob@example.com']);
      expectOk(deleted);
      expect(deleted.json()).toMatchObject({ id: bob.id, deleted: true });
      expectFailure(await run(['user', 'show', 'bob@example.com']), 1, /not found/);
      expect((await listJson('user')).map((u) => u.email)).not.toContain('bob@example.com');
    });

    it('set-password, signout and disable take effect at the issuer', async () => {
      const carolPassword = 'carol first password';
      const created = await run(['user', 'create', '--email', 'carol@example.com', '--password-stdin'], `${carolPassword}\n`);
      expectOk(created);
      const carolId = String(created.json().id);
      const web = await run(['client', 'create'], JSON.stringify({ client_name: 'Carol App', redirect_uris: [REDIRECT_URI] }));
      expectOk(web);
      const webClient = { clientId: String(web.json().client_id), clientSecret: String(web.json().client_secret) };
      const config = await discover(server, webClient);

      const tokens = await login(config, new Browser(), { email: 'carol@example.com', password: carolPassword });
      expect(tokens.claims?.sub).toBe(carolId);
      expect(await userinfoStatus(server, tokens.access_token)).toBe(200);

      // signout: every token of hers dies at once.
      const signout = await run(['user', 'signout', 'carol@example.com']);
      expectOk(signout);
      expect(signout.json()).toMatchObject({ id: carolId });
      expect(await introspect(server, rs, tokens.access_token)).toEqual({ active: false });
      expect(await userinfoStatus(server, tokens.access_token)).toBe(401);

      // set-password: the old password stops working, the new one (with spaces, one newline stripped) works.
      const again = await login(config, new Browser(), { email: 'carol@example.com', password: carolPassword });
      const setPassword = await run(['user', 'set-password', carolId, '--password-stdin'], 'carol second password\n');
      expectOk(setPassword);
      expect(setPassword.json()).toMatchObject({ id: carolId, passwordChanged: true });
      expect(setPassword.stdout).not.toContain('carol second password');
      expect(await introspect(server, rs, again.access_token)).toEqual({ active: false });
      await expect(login(config, new Browser(), { email: 'carol@example.com', password: carolPassword })).rejects.toThrow(/401/);
      const third = await login(config, new Browser(), { email: 'carol@example.com', password: 'carol second password' });
      expect(await introspect(server, rs, third.access_token)).toMatchObject({ active: true, sub: carolId });

      // disable: tokens die and she cannot sign in; enable lets her sign in again.
      expectOk(await run(['user', 'disable', carolId]));
      expect(await introspect(server, rs, third.access_token)).toEqual({ active: false });
      await expect(login(config, new Browser(), { email: 'carol@example.com', password: 'carol second password' })).rejects.toThrow(/401/);
      expectOk(await run(['user', 'enable', carolId]));
      const fourth = await login(config, new Browser(), { email: 'carol@example.com', password: 'carol second password' });
      expect(await introspect(server, rs, fourth.access_token)).toMatchObject({ active: true });

      // delete: her tokens die too.
      expectOk(await run(['user', 'delete', carolId]));
      expect(await introspect(server, rs, fourth.access_token)).toEqual({ active: false });
    });

    it('rejects bad input with a message naming the field, and writes nothing', async () => {
      expectOk(await run(['user', 'create', '--email', 'dave@example.com', '--password-stdin'], 'dave password\n'));
      const before = await listJson('user');

      const [short, empty, badEmail, noTld, dup, usage, noEmail] = await Promise.all([
        run(['user', 'create', '--email', 'erin@example.com', '--password-stdin'], 'short\n'),
        run(['user', 'create', '--email', 'erin@example.com', '--password-stdin'], ''),
        run(['user', 'create', '--email', 'not-an-email', '--password-stdin'], 'long enough password\n'),
        run(['user', 'create', '--email', 'erin@example', '--password-stdin'], 'long enough password\n'),
        run(['user', 'create', '--email', 'DAVE@example.com', '--password-stdin'], 'another password\n'),
        run(['user', 'create', '--email', 'erin@example.com'], 'long enough password\n'),
        run(['user', 'create', '--password-stdin'], 'long enough password\n'),
      ]);
      expectFailure(short!, 1, /password/);
      expectFailure(empty!, 1, /password/);
      expectFailure(badEmail!, 1, /email/);
      expectFailure(noTld!, 1, /email/);
      expectFailure(dup!, 1, /already exists/);
      expect(dup!.stderr).toMatch(/e-?mail/);
      expect(usage!.code).toBe(2);
      expect(usage!.stderr).toContain('--password-stdin');
      expect(usage!.stdout).toBe('');
      expect(noEmail!.code).toBe(2);
      expect(noEmail!.stderr).toContain('--email');

      expect(await listJson('user')).toEqual(before);

      // set-password with a short password changes nothing: the old one still verifies at login.
      expectFailure(await run(['user', 'set-password', 'dave@example.com', '--password-stdin'], 'short\n'), 1, /password/);
      expect(await listJson('user')).toEqual(before);
    });

    it('show/disable/enable/set-password/signout/delete of a missing user: exit 1, "not found"', async () => {
      const before = await listJson('user');
      const results = await Promise.all([
        run(['user', 'show', 'nobody@example.com']),
        run(['user', 'show', '00000000-0000-0000-0000-000000000000']),
        run(['user', 'disable', 'nobody@example.com']),
        run(['user', 'enable', 'nobody@example.com']),
        run(['user', 'signout', 'nobody@example.com']),
        run(['user', 'delete', 'nobody@example.com']),
        run(['user', 'set-password', 'nobody@example.com', '--password-stdin'], 'long enough password\n'),
      ]);
      for (const r of results) expectFailure(r, 1, /not found/);
      expect(await listJson('user')).toEqual(before);
    });
  });

  describe('clients', () => {
    it('create prints the secret once; list never prints a secret', async () => {
      const created = await run(['client', 'create'], JSON.stringify({
        client_name: 'Machine',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
      }));
      expectOk(created);
      const body = created.json<Json>();
      expect(body.client_id).toBeTypeOf('string');
      expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      expect(body).toMatchObject({ client_name: 'Machine', token_endpoint_auth_method: 'client_secret_basic' });

      const list = await run(['client', 'list']);
      expectOk(list);
      expect(list.stdout).not.toContain(String(body.client_secret));
      expect(list.stdout).not.toContain(rs.clientSecret);
      expect(list.stdout).not.toMatch(/client_secret"|secretHash/);
      const entry = list.json<Json[]>().find((c) => c.client_id === body.client_id);
      expect(entry).toMatchObject({ client_name: 'Machine', disabled: false });
      expect(entry!.createdAt).toBeTypeOf('string');

      // The secret works at the token endpoint.
      const ok = await clientCredentials(server.issuer, { clientId: String(body.client_id), clientSecret: String(body.client_secret) });
      expect(ok.status).toBe(200);
      expect(ok.body.access_token).toBeTypeOf('string');
    });

    it('a public client gets no secret; a chosen client_id is kept; a duplicate is refused', async () => {
      const pub = await run(['client', 'create'], JSON.stringify({
        client_id: 'spa-client',
        client_name: 'SPA',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      }));
      expectOk(pub);
      expect(pub.json()).toMatchObject({ client_id: 'spa-client', token_endpoint_auth_method: 'none' });
      expect(pub.json()).not.toHaveProperty('client_secret');

      const before = await listJson('client');
      const dup = await run(['client', 'create'], JSON.stringify({ client_id: 'spa-client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }));
      expectFailure(dup, 1, /client_id/);
      expectFailure(await run(['client', 'rotate-secret', 'spa-client']), 1, /client_id|secret/);
      expect(await listJson('client')).toEqual(before);
    });

    it('a client_id with reserved characters authenticates with form-encoded HTTP Basic (token endpoint and introspection)', async () => {
      const created = await run(['client', 'create'], JSON.stringify({
        client_id: 'svc:reports~v1.0',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
      }));
      expectOk(created);
      const client = { clientId: 'svc:reports~v1.0', clientSecret: String(created.json().client_secret) };
      const issued = await clientCredentials(server.issuer, client);
      expect(issued.status, JSON.stringify(issued.body)).toBe(200);
      // Tessera's own endpoint parses the same header (svc%3Areports~v1.0).
      expect(await introspect(server, client, String(issued.body.access_token))).toMatchObject({ active: true, client_id: client.clientId });
    });

    it('rotate-secret: the old secret stops working at the token endpoint, the new one works', async () => {
      const created = await run(['client', 'create'], JSON.stringify({ redirect_uris: [], response_types: [], grant_types: ['client_credentials'] }));
      expectOk(created);
      const clientId = String(created.json().client_id);
      const oldSecret = String(created.json().client_secret);
      expect((await clientCredentials(server.issuer, { clientId, clientSecret: oldSecret })).status).toBe(200);

      const rotated = await run(['client', 'rotate-secret', clientId]);
      expectOk(rotated);
      const newSecret = String(rotated.json().client_secret);
      expect(rotated.json()).toMatchObject({ client_id: clientId });
      expect(newSecret).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      expect(newSecret).not.toBe(oldSecret);

      await settledStatus(server.issuer, { clientId, clientSecret: oldSecret }, 401);
      const withOld = await clientCredentials(server.issuer, { clientId, clientSecret: oldSecret });
      expect(withOld.status).toBe(401);
      expect(withOld.body.error).toBe('invalid_client');
      const withNew = await clientCredentials(server.issuer, { clientId, clientSecret: newSecret });
      expect(withNew.status).toBe(200);
      expect(withNew.body.access_token).toBeTypeOf('string');
      // Still invalid after the new one was used (no stale cache entry lets it back in).
      expect((await clientCredentials(server.issuer, { clientId, clientSecret: oldSecret })).status).toBe(401);

      const list = await run(['client', 'list']);
      expect(list.stdout).not.toContain(newSecret);
      expect(list.stdout).not.toContain(oldSecret);
      expectFailure(await run(['client', 'rotate-secret', 'no-such-client']), 1, /not found/);
    });

    it('disable: client_credentials fails with invalid_client and its tokens are revoked; enable lets it get new ones (not the old back); delete removes', async () => {
      const created = await run(['client', 'create'], JSON.stringify({ redirect_uris: [], response_types: [], grant_types: ['client_credentials'] }));
      expectOk(created);
      const client = { clientId: String(created.json().client_id), clientSecret: String(created.json().client_secret) };
      const issued = await clientCredentials(server.issuer, client);
      expect(issued.status).toBe(200);
      const token = String(issued.body.access_token);
      expect(await introspect(server, rs, token)).toMatchObject({ active: true, client_id: client.clientId });

      const disabled = await run(['client', 'disable', client.clientId]);
      expectOk(disabled);
      expect(disabled.json()).toMatchObject({ client_id: client.clientId, disabled: true, revoked: { tokens: 1 } });
      // Introspection reads the client with the token itself: refused at once, no cache involved.
      expect(await introspect(server, rs, token)).toEqual({ active: false });
      await settledStatus(server.issuer, client, 401);
      const refused = await clientCredentials(server.issuer, client);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
      expect((await listJson('client')).find((c) => c.client_id === client.clientId)).toMatchObject({ disabled: true });

      const enabled = await run(['client', 'enable', client.clientId]);
      expectOk(enabled);
      expect(enabled.json()).toEqual({ client_id: client.clientId, disabled: false });
      await settledStatus(server.issuer, client, 200);
      expect(await introspect(server, rs, token)).toEqual({ active: false });

      const deleted = await run(['client', 'delete', client.clientId]);
      expectOk(deleted);
      expect(deleted.json()).toMatchObject({ client_id: client.clientId, deleted: true });
      await settledStatus(server.issuer, client, 401);
      const gone = await clientCredentials(server.issuer, client);
      expect(gone.status).toBe(401);
      expect(gone.body.error).toBe('invalid_client');
      expect((await listJson('client')).map((c) => c.client_id)).not.toContain(client.clientId);
      expectFailure(await run(['client', 'delete', client.clientId]), 1, /not found/);
      expectFailure(await run(['client', 'disable', client.clientId]), 1, /not found/);
    });

    it('rejects bad metadata with a message naming the field, and writes nothing', async () => {
      const before = await listJson('client');
      const bad: Array<[string, string, RegExp]> = [
        ['non-JSON', 'not json {', /metadata.*JSON/],
        ['empty stdin', '', /metadata/],
        ['whitespace stdin', '  \n', /metadata/],
        ['a JSON array', '[]', /metadata.*object/],
        ['a JSON string', '"client"', /metadata/],
        ['null', 'null', /metadata/],
        ['redirect_uris not URLs', JSON.stringify({ redirect_uris: ['not a url'] }), /redirect_uris/],
        ['redirect_uris not an array', JSON.stringify({ redirect_uris: 'https://rp.example.com/cb' }), /redirect_uris/],
        ['client_secret provided', JSON.stringify({ redirect_uris: [REDIRECT_URI], client_secret: 'mine' }), /client_secret/],
        ['client_secret_jwt', JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_jwt' }), /token_endpoint_auth_method/],
        ['unknown auth method', JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'magic' }), /token_endpoint_auth_method/],
        ['bad client_id', JSON.stringify({ client_id: 'a b', redirect_uris: [REDIRECT_URI] }), /client_id/],
        ['bad grant type', JSON.stringify({ redirect_uris: [REDIRECT_URI], grant_types: ['password'] }), /grant_types/],
      ];
      const results = await Promise.all(bad.map(([, stdin]) => run(['client', 'create'], stdin)));
      bad.forEach(([what, , message], i) => {
        const r = results[i]!;
        expect(r.code, `${what}: ${r.stderr}`).toBe(1);
        expect(r.stderr, what).toMatch(message);
        expect(r.stdout, what).toBe('');
      });
      expect(await listJson('client')).toEqual(before);
    });
  });

  describe('apis', () => {
    it('create, update, list, delete', async () => {
      const created = await run(['api', 'create'], JSON.stringify({ identifier: 'https://orders.example.com', name: 'Orders', scopes: ['orders:read', 'orders:read', 'orders:write'] }));
      expectOk(created);
      expect(created.json()).toMatchObject({
        identifier: 'https://orders.example.com',
        name: 'Orders',
        scopes: ['orders:read', 'orders:write'],
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
      });

      const updated = await run(['api', 'update', 'https://orders.example.com'], JSON.stringify({ scopes: ['orders:admin'], accessTokenFormat: 'opaque', accessTokenTTL: 900 }));
      expectOk(updated);
      expect(updated.json()).toMatchObject({ identifier: 'https://orders.example.com', name: 'Orders', scopes: ['orders:admin'], accessTokenFormat: 'opaque', accessTokenTTL: 900 });

      const listed = await listJson('api');
      expect(listed.find((a) => a.identifier === 'https://orders.example.com')).toMatchObject({ scopes: ['orders:admin'], accessTokenTTL: 900 });

      const deleted = await run(['api', 'delete', 'https://orders.example.com']);
      expectOk(deleted);
      expect(deleted.json()).toEqual({ identifier: 'https://orders.example.com', deleted: true });
      expect((await listJson('api')).map((a) => a.identifier)).not.toContain('https://orders.example.com');
      expectFailure(await run(['api', 'delete', 'https://orders.example.com']), 1, /not found/);
      expectFailure(await run(['api', 'update', 'https://orders.example.com'], '{"name":"x"}'), 1, /not found/);
    });

    it('rejects bad input with a message naming the field, and writes nothing', async () => {
      expectOk(await run(['api', 'create'], JSON.stringify({ identifier: 'https://stock.example.com', scopes: ['read'] })));
      const before = await listJson('api');
      const bad: Array<[string, string, RegExp]> = [
        ['non-URI identifier', JSON.stringify({ identifier: 'not a uri' }), /identifier/],
        ['identifier with a fragment', JSON.stringify({ identifier: 'https://x.example.com/#frag' }), /identifier/],
        ['missing identifier', JSON.stringify({ scopes: ['read'] }), /identifier/],
        ['scopes not strings', JSON.stringify({ identifier: 'https://x.example.com', scopes: [1, 2] }), /scopes/],
        ['scope with a space', JSON.stringify({ identifier: 'https://x.example.com', scopes: ['read write'] }), /scopes/],
        ['accessTokenFormat paseto', JSON.stringify({ identifier: 'https://x.example.com', accessTokenFormat: 'paseto' }), /accessTokenFormat/],
        ['accessTokenTTL 5', JSON.stringify({ identifier: 'https://x.example.com', accessTokenTTL: 5 }), /accessTokenTTL/],
        ['accessTokenTTL as a string', JSON.stringify({ identifier: 'https://x.example.com', accessTokenTTL: '600' }), /accessTokenTTL/],
        ['unknown property', JSON.stringify({ identifier: 'https://x.example.com', audience: 'x' }), /audience/],
        ['non-JSON', '{identifier:', /api.*JSON/],
        ['empty stdin', '', /api/],
        ['duplicate identifier', JSON.stringify({ identifier: 'https://stock.example.com' }), /already exists/],
      ];
      const badUpdates: Array<[string, string, RegExp]> = [
        ['update: accessTokenTTL 5', JSON.stringify({ accessTokenTTL: 5 }), /accessTokenTTL/],
        ['update: identifier is not patchable', JSON.stringify({ identifier: 'https://y.example.com' }), /identifier/],
        ['update: scopes not strings', JSON.stringify({ scopes: [true] }), /scopes/],
      ];
      const results = await Promise.all([
        ...bad.map(([, stdin]) => run(['api', 'create'], stdin)),
        ...badUpdates.map(([, stdin]) => run(['api', 'update', 'https://stock.example.com'], stdin)),
      ]);
      [...bad, ...badUpdates].forEach(([what, , message], i) => {
        const r = results[i]!;
        expect(r.code, `${what}: ${r.stderr}`).toBe(1);
        expect(r.stderr, what).toMatch(message);
        expect(r.stdout, what).toBe('');
      });
      expect(await listJson('api')).toEqual(before);
    });
  });

  it('--help exits 0 with usage on stdout', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: tessera/);
    expect(help.stdout).toMatch(/user/);
  });

  it('usage errors exit 2: unknown command, missing argument', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    const missing = await run(['user', 'show']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument/);
  });
});

describe('tessera CLI with no server running', { timeout: 90_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[], stdin = '', extra: Record<string, string> = {}): Promise<CliResult> =>
    cli({ env: { ...env, ...extra }, dir }, args, stdin);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-test-'));
    env = { ...FAST_ARGON2, DATABASE_URL: `file:${join(dir, 'x.db')}` };
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an invalid environment variable exits 2 naming it, before touching the database', async () => {
    for (const [name, value] of [['PORT', 'abc'], ['SIGNING_ALG', 'HS256'], ['ISSUER', 'not-a-url'], ['ARGON2_TIME_COST', '0'], ['COOKIE_KEYS', 'short']]) {
      const r = await run(['user', 'list'], '', { [name!]: value! });
      expect(r.code, `${name}=${value}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(name);
      expect(r.stdout).toBe('');
    }
    const badDb = await run(['migrate'], '', { DATABASE_URL: 'mysql://localhost/tessera' });
    expect(badDb.code).toBe(2);
    expect(badDb.stderr).toContain('DATABASE_URL');
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
  });

  it('migrate prints the applied migrations, then nothing to apply', async () => {
    const first = await run(['migrate']);
    expectOk(first);
    expect(first.json()).toEqual({ applied: committedMigrations });
    expect(existsSync(join(dir, 'x.db'))).toBe(true);
    const second = await run(['migrate']);
    expectOk(second);
    expect(second.json()).toEqual({ applied: [] });
  });

  it('manages users, clients and APIs directly in the database', async () => {
    const user = await run(['user', 'create', '--email', 'offline@example.com', '--password-stdin'], 'offline password\n');
    expectOk(user);
    expect((await run(['user', 'list'])).json<Json[]>().map((u) => u.email)).toEqual(['offline@example.com']);
    expectFailure(await run(['user', 'create', '--email', 'offline@example.com', '--password-stdin'], 'offline password\n'), 1, /already exists/);

    const client = await run(['client', 'create'], JSON.stringify({ redirect_uris: ['https://rp.example.com/cb'] }));
    expectOk(client);
    expect(client.json().client_secret).toBeTypeOf('string');
    const list = await run(['client', 'list']);
    // The admin console's own client is registered by every start, the CLI's included.
    expect(list.json<Json[]>().map((c) => c.client_id).sort()).toEqual([client.json().client_id, 'tessera-console'].sort());
    expect(list.stdout).not.toContain(String(client.json().client_secret));

    expectOk(await run(['api', 'create'], JSON.stringify({ identifier: 'urn:example:api', scopes: ['a'] })));
    expect((await run(['api', 'list'])).json<Json[]>().map((a) => a.identifier)).toEqual(['urn:example:api']);
  });

  it('admin create: creates an admin, promotes an existing user (password untouched), rejects bad input', async () => {
    const created = await run(['admin', 'create', '--email', 'Root@Example.com', '--password-stdin'], 'root password 1\n');
    expectOk(created);
    expect(created.json()).toMatchObject({ email: 'root@example.com', roles: ['admin'], disabled: false, created: true });
    expect(created.stdout).not.toContain('root password 1');

    expectOk(await run(['user', 'create', '--email', 'carol@example.com', '--password-stdin', '--role', 'support'], 'carol password 1\n'));
    const promoted = await run(['admin', 'create', '--email', 'carol@example.com', '--password-stdin'], 'ignored password\n');
    expectOk(promoted);
    expect(promoted.json()).toMatchObject({ email: 'carol@example.com', roles: ['support', 'admin'], created: false });
    const again = await run(['admin', 'create', '--email', 'carol@example.com', '--password-stdin'], 'ignored password\n');
    expect(again.json()).toMatchObject({ roles: ['support', 'admin'], created: false });

    expectFailure(await run(['admin', 'create', '--email', 'not-an-email', '--password-stdin'], 'long enough 1\n'), 1, /email/);
    expectFailure(await run(['admin', 'create', '--email', 'dave@example.com', '--password-stdin'], 'short\n'), 1, /password/);
    expect((await run(['user', 'list'])).json<Json[]>().map((u) => u.email)).not.toContain('dave@example.com');
  });

  it('any command migrates a fresh database first', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'tessera-cli-fresh-'));
    try {
      const r = await cli({ env: { ...FAST_ARGON2, DATABASE_URL: `file:${join(fresh, 'nested', 'y.db')}` }, dir: fresh }, ['user', 'list']);
      expectOk(r);
      expect(r.json()).toEqual([]);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
