import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { createUser, firstPage, openDb, refreshWith, submitPassword } from '../support/flows.js';
import { discover, introspect, login, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';

const LOGIN_ERROR = 'Invalid e-mail or password';

interface UserTokens {
  browser: Browser;
  userinfo: string;
  userinfoRefresh: string;
  jwt: string;
  opaque: string;
  jwtRefresh: string;
}

describe('accounts: disabled users, failed logins', () => {
  let server: TestServer;
  let f: Fixture;
  let config: oidc.Configuration;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    config = await discover(server, f.web);
  });
  afterAll(async () => server?.cleanup());

  async function tokensFor(user: { email: string; password: string }): Promise<UserTokens> {
    const browser = new Browser();
    const ui = await login(config, browser, user, { scope: 'openid email' });
    const jwt = await login(config, browser, user, { scope: 'openid read', resource: f.jwtApi });
    const opaque = await login(config, browser, user, { scope: 'openid read', resource: f.opaqueApi });
    return { browser, userinfo: ui.access_token, userinfoRefresh: ui.refresh_token!, jwt: jwt.access_token, opaque: opaque.access_token, jwtRefresh: jwt.refresh_token! };
  }

  async function expectActive(t: UserTokens): Promise<void> {
    expect(await introspect(server, f.rs, t.userinfo)).toMatchObject({ active: true });
    expect(await introspect(server, f.rs, t.jwt)).toMatchObject({ active: true, aud: f.jwtApi });
    expect(await introspect(server, f.rs, t.opaque)).toMatchObject({ active: true, aud: f.opaqueApi });
    expect(await introspect(server, f.rs, t.userinfoRefresh, 'refresh_token')).toMatchObject({ active: true });
    expect(await introspect(server, f.rs, t.jwtRefresh, 'refresh_token')).toMatchObject({ active: true });
    expect(await userinfoStatus(server, t.userinfo)).toBe(200);
  }

  async function expectInactive(t: UserTokens): Promise<void> {
    expect(await introspect(server, f.rs, t.userinfo)).toEqual({ active: false });
    expect(await introspect(server, f.rs, t.jwt)).toEqual({ active: false });
    expect(await introspect(server, f.rs, t.opaque)).toEqual({ active: false });
    expect(await introspect(server, f.rs, t.userinfoRefresh, 'refresh_token')).toEqual({ active: false });
    expect(await introspect(server, f.rs, t.jwtRefresh, 'refresh_token')).toEqual({ active: false });
    expect(await userinfoStatus(server, t.userinfo)).toBe(401);
    expect((await refreshWith(config, t.userinfoRefresh)).error).toBe('invalid_grant');
    expect((await refreshWith(config, t.jwtRefresh, { resource: f.jwtApi })).error).toBe('invalid_grant');
  }

  it('`tessera user disable` kills every token and blocks login; `enable` lets the user back in', async () => {
    const user = await createUser(server, 'disabled@example.com', 'disabled password 1');
    const t = await tokensFor(user);
    await expectActive(t);

    const disabled = await cli(server, ['user', 'disable', user.email]);
    expect(disabled.code).toBe(0);
    expect(disabled.json()).toMatchObject({ email: user.email, disabled: true });

    await expectInactive(t);
    // The user's browser session is gone too: no silent SSO.
    expect((await firstPage(config, t.browser) as { html?: string }).html).toContain('name="password"');

    // The right password no longer signs in: the login page again, with the generic error.
    const attempt = await submitPassword(config, new Browser(), user);
    expect(attempt.status).toBe(401);
    expect(attempt.html).toContain(LOGIN_ERROR);
    expect(attempt.html).toContain('name="password"');
    expect(attempt.location).toBeNull();

    const enabled = await cli(server, ['user', 'enable', user.email]);
    expect(enabled.code).toBe(0);
    expect(enabled.json()).toMatchObject({ disabled: false });
    // Old tokens stay dead (they were revoked, not just suspended)…
    expect(await introspect(server, f.rs, t.userinfoRefresh)).toEqual({ active: false });
    // …and the user can sign in again.
    const again = await login(config, new Browser(), user);
    expect(again.claims?.sub).toBe(user.userId);
    expect(await userinfoStatus(server, again.access_token)).toBe(200);
  });

  it('defence in depth: a disabled flag alone (rows not revoked) makes every token inactive', async () => {
    const user = await createUser(server, 'flag-only@example.com', 'flag only password');
    const t = await tokensFor(user);
    await expectActive(t);

    const db = await openDb(server);
    const count = async (sql: string): Promise<number> => Number((await db.query<{ n: unknown }>(sql, [user.userId]))[0]!.n);
    try {
      expect(await db.run('UPDATE "User" SET disabled = $1 WHERE email = $2', [true, user.email])).toBe(1);
      // Nothing was revoked: the rows are all still there.
      expect(await count('SELECT count(*) AS n FROM "OidcRefreshToken" WHERE "accountId" = $1')).toBeGreaterThanOrEqual(2);
      expect(await count('SELECT count(*) AS n FROM "OidcAccessToken" WHERE "accountId" = $1')).toBeGreaterThanOrEqual(2);
      expect(await count('SELECT count(*) AS n FROM "JwtAccessToken" WHERE "accountId" = $1 AND "revokedAt" IS NULL')).toBeGreaterThanOrEqual(1);

      await expectInactive(t);

      // The failed refreshes did not spend the tokens: clearing the flag brings them back,
      // so it is the flag (not a revocation) that made them inactive.
      await db.run('UPDATE "User" SET disabled = $1 WHERE email = $2', [false, user.email]);
      await expectActive(t);
      expect((await refreshWith(config, t.userinfoRefresh)).error).toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it('defence in depth: a surviving browser session of a disabled account gets the login page again', async () => {
    const user = await createUser(server, 'stale-session@example.com', 'stale session password');
    const browser = new Browser();
    await login(config, browser, user);
    expect(await firstPage(config, browser)).toHaveProperty('redirected'); // silent SSO while enabled

    const db = await openDb(server);
    try {
      await db.run('UPDATE "User" SET disabled = $1 WHERE email = $2', [true, user.email]);
      // The session row was not revoked; the next authorization request must not sign in
      // silently, and must not fail either: the browser gets the login page.
      const page = await firstPage(config, browser);
      expect(page).not.toHaveProperty('redirected');
      const { status, html } = page as { status: number; html: string };
      expect(html).not.toContain('server_error');
      expect(status).toBe(200);
      expect(html).toContain('name="password"');
    } finally {
      await db.run('UPDATE "User" SET disabled = $1 WHERE email = $2', [false, user.email]);
      await db.close();
    }
  });

  it('wrong password and unknown e-mail get the same 401 login page (no account enumeration)', async () => {
    const user = await createUser(server, 'enum@example.com', 'enumeration password');
    const wrong = await submitPassword(config, new Browser(), { email: user.email, password: 'not the password' });
    const unknown = await submitPassword(config, new Browser(), { email: 'nobody@example.com', password: 'not the password' });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.html).toContain(LOGIN_ERROR);
      expect(r.html).toContain('name="password"');
      expect(r.location).toBeNull();
    }
    // Identical once the per-request values (interaction id, CSRF token, echoed e-mail) are masked.
    const normalize = (html: string): string => html
      .replace(/\/interaction\/[\w-]+/g, '/interaction/UID')
      .replace(/(name="csrf" value=")[^"]*"/g, '$1CSRF"')
      .replace(/(name="email" value=")[^"]*"/g, '$1EMAIL"')
      .replace(/nonce="[^"]*"/g, 'nonce="NONCE"');
    expect(normalize(unknown.html)).toBe(normalize(wrong.html));
  });
});

describe('accounts: password hashes follow the configured argon2 cost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rehash-'));
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  let f: Fixture;

  beforeAll(async () => {
    first = await startServer({ ARGON2_TIME_COST: '1' }, { dir });
    f = await seed(first, 'rehash@example.com', 'rehash password 123');
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const storedHash = async (server: TestServer): Promise<string> => {
    const db = await openDb(server);
    try {
      return (await db.query<{ passwordHash: string }>('SELECT "passwordHash" FROM "User" WHERE email = $1', [f.email]))[0]!.passwordHash;
    } finally {
      await db.close();
    }
  };

  it('a successful login after ARGON2_TIME_COST went up rehashes the stored password', async () => {
    const before = await storedHash(first!);
    expect(before).toMatch(/^\$argon2id\$/);
    expect(before).toContain('t=1');
    await first!.stop();

    second = await startServer({ ARGON2_TIME_COST: '2' }, { dir });
    // A failed login does not touch the hash.
    const config = await discover(second, f.web);
    const failed = await submitPassword(config, new Browser(), { email: f.email, password: 'wrong password 123' });
    expect(failed.status).toBe(401);
    expect(await storedHash(second)).toBe(before);

    const tokens = await login(config, new Browser(), f);
    expect(tokens.claims?.sub).toBe(f.userId);
    const after = await storedHash(second);
    expect(after).toContain('t=2');
    expect(after).not.toContain('t=1');
    // The new hash still verifies.
    const again = await login(config, new Browser(), f);
    expect(again.claims?.sub).toBe(f.userId);
    expect(await storedHash(second)).toBe(after);
  });
});
