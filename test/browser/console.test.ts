import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium, newContext, screenshot, watchRedirectUri } from '../support/chromium.js';
import { createUser } from '../support/flows.js';
import { authorizationRequest as rpAuthorizationRequest, discover, REDIRECT_URI, refresh, seed, type Fixture } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';
import { expectTokensAlive, expectTokensDead } from '../support/session-tokens.js';

/**
 * The admin console in a real browser (Debian's Chromium through playwright-core): an admin
 * signs in through Tessera's own login page, users sign in to a relying party in other browser
 * contexts, and what the admin does in the console is checked against their tokens.
 */

const ADMIN = { email: 'root@example.com', password: 'console admin password 1' };
const DEVICE_UA = 'Mozilla/5.0 (X11; Linux x86_64) TesseraTestDevice/7.3 (second context)';

/**
 * Assertions on server-rendered pages (playwright-core has no `expect`): each page has loaded
 * before it is read, so reading once is enough.
 */
function see(locator: Locator) {
  const match = (actual: string, expected: string | RegExp, whole: boolean) =>
    expected instanceof RegExp ? expect(actual).toMatch(expected) : whole ? expect(actual.trim()).toBe(expected) : expect(actual).toContain(expected);
  return {
    async toHaveText(expected: string | RegExp) { match(await locator.innerText(), expected, true); },
    async toContainText(expected: string | RegExp) { match(await locator.innerText(), expected, false); },
    async toHaveCount(n: number) { expect(await locator.count()).toBe(n); },
    async toHaveValue(value: string) { expect(await locator.inputValue()).toBe(value); },
    async toHaveAttribute(name: string, value: string | RegExp) { match((await locator.getAttribute(name)) ?? '', value, true); },
    async toBeVisible() { expect(await locator.isVisible()).toBe(true); },
    not: {
      async toContainText(expected: string) { expect(await locator.innerText()).not.toContain(expected); },
    },
  };
}

/** What one browser session of a user holds after signing in to the seeded web client. */
interface RpSession {
  context: BrowserContext;
  /** Opaque access token (scope openid email), good for userinfo. */
  userinfo: string;
  /** RFC 9068 JWT for the JWT API. */
  jwt: string;
  refresh: string[];
}

describe('admin console in Chromium', () => {
  let server: TestServer;
  let f: Fixture;
  let config: oidc.Configuration;
  let browser: Browser;
  let admin: BrowserContext;
  let adminPage: Page;
  const contexts: BrowserContext[] = [];
  const watchers = new Map<BrowserContext, ReturnType<typeof watchRedirectUri>>();

  const url = (path: string) => `${server.issuer}${path}`;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    config = await discover(server, f.web);
    const made = await cli(server, ['admin', 'create', '--email', ADMIN.email, '--password-stdin'], `${ADMIN.password}\n`);
    if (made.code !== 0) throw new Error(`admin create failed: ${made.stderr}`);
    browser = await launchChromium();
    admin = await context();
    adminPage = await admin.newPage();
    const signedIn = await signInToConsole(adminPage, ADMIN);
    if (signedIn?.status() !== 200) throw new Error(`admin sign-in answered ${signedIn?.status()} at ${adminPage.url()}`);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.cleanup();
  });

  async function context(userAgent?: string): Promise<BrowserContext> {
    const c = await newContext(browser, { userAgent });
    watchers.set(c, watchRedirectUri(c, REDIRECT_URI));
    contexts.push(c);
    return c;
  }

  /** Clicks and waits until the page that the click leads to (after redirects) has loaded. */
  async function submit(page: Page, selector: string): Promise<void> {
    await watchers.get(page.context())!.navigate(page, () => Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator(selector).click()]));
  }

  /** Opens a URL; one that ends at the relying party's redirect URI counts as loaded. */
  async function visit(page: Page, href: string): Promise<void> {
    await watchers.get(page.context())!.navigate(page, () => page.goto(href));
  }

  /** The redirect URI (with the code) where the page's last navigation ended, if it did. */
  const atCallback = (page: Page): string | undefined => watchers.get(page.context())!.callback(page);

  async function fillLogin(page: Page, user: { email: string; password: string }): Promise<void> {
    await page.locator('#email').fill(user.email);
    await page.locator('#password').fill(user.password);
    await submit(page, 'button.primary');
  }

  const onLoginPage = async (page: Page) => new URL(page.url()).pathname.startsWith('/interaction/') && (await page.locator('input#password').count()) === 1;

  /** Opens /admin and signs in through Tessera's login page (the console is a first-party client: no consent). */
  async function signInToConsole(page: Page, user: { email: string; password: string }): ReturnType<Page['waitForNavigation']> {
    await page.goto(url('/admin'));
    expect(await onLoginPage(page)).toBe(true);
    await page.locator('#email').fill(user.email);
    await page.locator('#password').fill(user.password);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('button.primary').click()]);
    return response;
  }

  /** An authorization URL (PKCE; prompt not set), for the seeded web client unless told otherwise. */
  const authorizationRequest = (options: { scope?: string; resource?: string } = {}, cfg = config) => rpAuthorizationRequest(cfg, options);

  /** Signs in and consents as the pages ask, until the browser is sent to the redirect URI; returns that URI. */
  async function driveToCallback(page: Page, user: { email: string; password: string }): Promise<string> {
    for (let i = 0; i < 4 && !atCallback(page); i += 1) {
      if (await onLoginPage(page)) {
        await fillLogin(page, user);
      } else if ((await page.locator('h1', { hasText: 'Allow access?' }).count()) === 1) {
        await submit(page, 'button.primary:has-text("Allow")');
      } else {
        throw new Error(`unexpected page ${page.url()}: ${(await page.locator('main').innerText()).slice(0, 500)}`);
      }
    }
    const callback = atCallback(page);
    if (!callback) throw new Error(`never reached the redirect URI; last page ${page.url()}`);
    return callback;
  }

  /**
   * A code flow in a real browser (a fresh tab of the context, closed afterwards: a navigation to
   * the unreachable redirect URI leaves the tab on an error page), then the code exchange.
   */
  async function rpLogin(c: BrowserContext, user: { email: string; password: string }, options: { scope?: string; resource?: string } = {}, cfg = config) {
    const page = await c.newPage();
    try {
      const request = await authorizationRequest(options, cfg);
      await visit(page, request.href);
      const callback = await driveToCallback(page, user);
      return await oidc.authorizationCodeGrant(cfg, new URL(callback), { pkceCodeVerifier: request.verifier, expectedState: request.state });
    } finally {
      await page.close();
    }
  }

  /** A user signed in to the web client in a browser context of its own: opaque + JWT access tokens, two refresh tokens. */
  async function rpSession(user: { email: string; password: string }, userAgent?: string): Promise<RpSession> {
    const c = await context(userAgent);
    const ui = await rpLogin(c, user, { scope: 'openid email' });
    const api = await rpLogin(c, user, { scope: 'openid read', resource: f.jwtApi });
    expect(api.access_token.split('.')).toHaveLength(3);
    expect(ui.refresh_token && api.refresh_token).toBeTruthy();
    return { context: c, userinfo: ui.access_token, jwt: api.access_token, refresh: [ui.refresh_token!, api.refresh_token!] };
  }

  /**
   * The context's next authorization request (no prompt) in a new tab: straight back with a code
   * ("signed-in", tab closed), or Tessera's sign-in page (left open in `page`).
   */
  async function nextAuthorization(c: BrowserContext): Promise<{ outcome: 'signed-in' } | { outcome: 'login-page'; page: Page }> {
    const page = await c.newPage();
    await visit(page, (await authorizationRequest()).href);
    if (atCallback(page)) {
      await page.close();
      return { outcome: 'signed-in' };
    }
    if (await onLoginPage(page)) return { outcome: 'login-page', page };
    throw new Error(`unexpected page ${page.url()}`);
  }

  const expectAlive = (s: RpSession) => expectTokensAlive(server, f, s);
  const expectDead = (s: RpSession) => expectTokensDead(server, f, config, s);

  /** The sign-in page of the context's next authorization request (fails if it is signed in). */
  async function loginPageOf(c: BrowserContext): Promise<Page> {
    const next = await nextAuthorization(c);
    if (next.outcome !== 'login-page') throw new Error('expected the sign-in page, the context is still signed in');
    return next.page;
  }

  /** Finds a user with the search box on /admin/users and opens the user page. */
  async function openUser(page: Page, email: string, shot?: string): Promise<void> {
    await page.goto(url('/admin/users'));
    await page.locator('#q').fill(email.split('@')[0]!);
    await submit(page, 'form[role="search"] button[type="submit"]');
    expect(new URL(page.url()).searchParams.get('q')).toBe(email.split('@')[0]);
    if (shot) await screenshot(page, shot);
    await submit(page, `table a:text-is("${email}")`);
    await see(page.locator('h1')).toHaveText(email);
  }

  /** Clicks a destructive button, checks the confirmation page, confirms, and returns the notice shown. */
  async function confirmAction(page: Page, button: string, expectHeading: RegExp, shot?: string): Promise<string> {
    await submit(page, button);
    await see(page.locator('h1')).toHaveText(expectHeading);
    if (shot) await screenshot(page, shot);
    await submit(page, 'form input[name="confirm"][value="yes"] ~ p button.danger');
    return page.locator('p.notice[role="status"]').innerText();
  }

  it('an admin signs in through Tessera\'s login page; console pages are no-store, script-free, with a strict HttpOnly cookie', async () => {
    const c = await context();
    const page = await c.newPage();
    await page.goto(url('/admin'));
    expect(await onLoginPage(page)).toBe(true);
    await see(page.locator('h1')).toHaveText('Sign in');
    await screenshot(page, 'login-page');
    await page.locator('#email').fill(ADMIN.email);
    await page.locator('#password').fill(ADMIN.password);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('button.primary').click()]);
    expect(new URL(page.url()).pathname).toBe('/admin');
    expect(response!.status()).toBe(200);
    await see(page.locator('h1')).toHaveText('Dashboard');
    await see(page.locator('.admin-header')).toContainText(ADMIN.email);

    // Security of the console's responses.
    const headers = await response!.allHeaders();
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src(?!-attr|-elem)[^;]*(\*|https?:)/);
    expect(headers['cache-control']).toContain('no-store');
    const cookie = (await c.cookies(url('/admin'))).find((c) => c.name === 'tessera.console');
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('Strict');
    expect(cookie!.path).toBe('/admin');
    for (const path of ['/admin/users', '/admin/clients', '/admin/apis', '/admin/audit']) {
      const res = await page.goto(url(path));
      expect(res!.status()).toBe(200);
      const h = await res!.allHeaders();
      expect(h['cache-control']).toContain('no-store');
      expect(h['content-security-policy']).toBe(csp);
      // The pages carry no script of their own.
      expect(await page.locator('script').count()).toBe(0);
    }
  });

  it('the dashboard shows figures and the SVG chart of tokens per minute', async () => {
    await adminPage.goto(url('/admin'));
    const figures = adminPage.locator('dl.figures > div');
    expect(await figures.count()).toBeGreaterThanOrEqual(6);
    for (const text of await adminPage.locator('dl.figures dd').allInnerTexts()) expect(text).toMatch(/^\d+/);
    // The admin's own sign-in is a session and issued tokens.
    expect(Number(await adminPage.locator('#active-sessions').innerText())).toBeGreaterThanOrEqual(1);
    expect(Number(await adminPage.locator('#issued-5').innerText())).toBeGreaterThanOrEqual(1);
    const chart = adminPage.locator('figure.chart svg[role="img"]');
    await see(chart).toHaveAttribute('aria-label', /Tokens issued/);
    expect(await chart.locator('rect.issued').count()).toBeGreaterThan(0);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(40);
    await screenshot(adminPage, 'dashboard');
  });

  it('the issue: an admin revokes a user\'s session from the user page, and that browser\'s tokens and sign-in die', async () => {
    const device = await rpSession({ email: f.email, password: f.password }, DEVICE_UA);
    await expectAlive(device);
    // Before: the device is signed in (its next authorization request comes straight back with a code).
    expect((await nextAuthorization(device.context)).outcome).toBe('signed-in');

    await openUser(adminPage, f.email, 'users-list-search');
    const row = adminPage.locator('table#sessions tbody tr', { hasText: 'TesseraTestDevice/7.3' });
    await see(row).toHaveCount(1);
    await see(row.locator('td.ua')).toHaveText(DEVICE_UA);
    await see(row).toContainText('Web App');
    await screenshot(adminPage, 'user-page-sessions');

    await submit(adminPage, 'table#sessions tbody tr:has-text("TesseraTestDevice/7.3") button:has-text("Revoke")');
    await see(adminPage.locator('h1')).toHaveText('Revoke this session?');
    // The question names whose session, on which device and address, it is.
    await see(adminPage.locator('p.subject')).toContainText(`Session of ${f.email}: ${DEVICE_UA}, 127.0.0.1`);
    await screenshot(adminPage, 'confirm-page');
    await submit(adminPage, 'button.danger:has-text("Revoke session")');
    expect(new URL(adminPage.url()).pathname).toBe(`/admin/users/${f.userId}`);
    await see(adminPage.locator('p.notice[role="status"]')).toHaveText('The session was revoked. Its tokens no longer work.');
    await see(adminPage.locator('table#sessions tbody tr', { hasText: 'TesseraTestDevice/7.3' })).toHaveCount(0);

    await expectDead(device);
    // The device's next authorization request (no prompt) asks for the password again.
    const again = await nextAuthorization(device.context);
    expect(again.outcome).toBe('login-page');
    if (again.outcome === 'login-page') await see(again.page.locator('h1')).toHaveText('Sign in');
  });

  it('the audit log shows the session revocation with the admin as actor, and the filters narrow it', async () => {
    const user = await createUser(server, 'audited@example.com', 'audited password 1');
    await rpSession(user, 'AuditedDevice/1.0');
    await openUser(adminPage, user.email);
    await confirmAction(adminPage, 'table#sessions tbody tr:has-text("AuditedDevice/1.0") button:has-text("Revoke")', /Revoke this session\?/);

    await adminPage.goto(url('/admin/audit'));
    const all = await adminPage.locator('table#audit tbody tr').count();
    const revocation = adminPage.locator('table#audit tbody tr', { hasText: user.userId });
    await see(revocation.filter({ hasText: 'session.revoke' })).toHaveCount(1);
    await see(revocation.filter({ hasText: 'session.revoke' })).toContainText(`admin: ${ADMIN.email}`);
    await screenshot(adminPage, 'audit-log');

    await adminPage.locator('#action').fill('session.revoke');
    await submit(adminPage, 'form.filters button[type="submit"]');
    expect(new URL(adminPage.url()).searchParams.get('action')).toBe('session.revoke');
    const rows = adminPage.locator('table#audit tbody tr');
    const revocations = await rows.count();
    expect(revocations).toBeGreaterThanOrEqual(1);
    expect(revocations).toBeLessThan(all);
    for (const action of await rows.locator('td:nth-child(2)').allInnerTexts()) expect(action).toBe('session.revoke');
    await adminPage.locator('#target').fill(user.userId);
    await submit(adminPage, 'form.filters button[type="submit"]');
    await see(rows).toHaveCount(1);
    await see(rows.first()).toContainText(`admin: ${ADMIN.email}`);
    await see(rows.first()).toContainText(user.userId);
    // The filter keeps its value, and filtering by a target that has no such entry finds nothing.
    await see(adminPage.locator('#action')).toHaveValue('session.revoke');
    await adminPage.locator('#target').fill('no-such-target');
    await submit(adminPage, 'form.filters button[type="submit"]');
    await see(rows).toHaveCount(0);
    await see(adminPage.locator('main')).toContainText('No entry matches.');
  });

  it('"Sign out everywhere" (after confirmation) kills every session and token of the user', async () => {
    const user = await createUser(server, 'everywhere@example.com', 'everywhere password 1');
    const a = await rpSession(user, 'DeviceA/1.0');
    const b = await rpSession(user, 'DeviceB/1.0');
    await expectAlive(a);
    await expectAlive(b);
    await openUser(adminPage, user.email);
    await see(adminPage.locator('table#sessions tbody tr')).toHaveCount(2);
    const notice = await confirmAction(adminPage, 'button:has-text("Sign out everywhere")', /Sign out everywhere\?/);
    expect(notice).toContain('signed out everywhere');
    await see(adminPage.locator('main')).toContainText('No active session.');
    await expectDead(a);
    await expectDead(b);
    expect((await nextAuthorization(a.context)).outcome).toBe('login-page');
    expect((await nextAuthorization(b.context)).outcome).toBe('login-page');
  });

  it('"Disable account" (after confirmation) kills the tokens and refuses the next sign-in; enabling lets it in again', async () => {
    const user = await createUser(server, 'disable-me@example.com', 'disable password 1');
    const s = await rpSession(user, 'DisabledDevice/1.0');
    await expectAlive(s);
    await openUser(adminPage, user.email);
    const notice = await confirmAction(adminPage, 'button:has-text("Disable account")', /Disable this account\?/);
    expect(notice).toContain('disabled');
    await see(adminPage.locator('#user-status')).toHaveText('disabled');
    await expectDead(s);

    const refused = await loginPageOf(s.context);
    await fillLogin(refused, user);
    expect(await onLoginPage(refused)).toBe(true);
    await see(refused.locator('[role="alert"]')).toBeVisible();

    await submit(adminPage, 'button:has-text("Enable account")');
    await see(adminPage.locator('#user-status')).toHaveText('active');
    await rpLogin(s.context, user);
  });

  it('"Reset password": the old password no longer works at the login page, the new one does', async () => {
    const user = await createUser(server, 'reset-me@example.com', 'the old password 1');
    const s = await rpSession(user, 'ResetDevice/1.0');
    await openUser(adminPage, user.email);
    const fresh = 'the brand new password 2';
    await adminPage.locator('form[action$="/password"] #password').fill(fresh);
    await submit(adminPage, 'button:has-text("Reset password")');
    await see(adminPage.locator('p.notice[role="status"]')).toContainText('password was changed');
    await expectDead(s);

    const page = await loginPageOf(s.context);
    await fillLogin(page, user);
    expect(await onLoginPage(page)).toBe(true);
    await see(page.locator('[role="alert"]')).toHaveText('Invalid e-mail or password.');
    // The new one gets through (to consent again: the reset revoked the grant too).
    expect(await driveToCallback(page, { email: user.email, password: fresh })).toMatch(/[?&]code=/);
  });

  it('creates a user through the form; a bad e-mail is refused with an error naming the field', async () => {
    await adminPage.goto(url('/admin/users'));
    await submit(adminPage, 'a.button:has-text("New user")');
    await see(adminPage.locator('h1')).toHaveText('New user');
    // A new user is not an administrator unless the box is ticked.
    expect(await adminPage.locator('#admin').isChecked()).toBe(false);
    // "a@b" passes the browser's own e-mail check but not Tessera's.
    await adminPage.locator('#email').fill('a@b');
    await adminPage.locator('#password').fill('a fine password 1');
    const [bad] = await Promise.all([adminPage.waitForNavigation(), adminPage.locator('button:has-text("Create user")').click()]);
    expect(bad!.status()).toBe(400);
    await see(adminPage.locator('[role="alert"]')).toContainText(/e-?mail/i);
    await see(adminPage.locator('#email')).toHaveValue('a@b');
    // The field is marked invalid, described by the message, and focused.
    await see(adminPage.locator('#email')).toHaveAttribute('aria-invalid', 'true');
    await see(adminPage.locator('#email')).toHaveAttribute('aria-describedby', 'form-error');
    await see(adminPage.locator('#form-error')).toHaveText('email: must be an e-mail address');
    await see(adminPage.locator('#email:focus')).toHaveCount(1);
    expect(await adminPage.locator('#password').getAttribute('aria-invalid')).toBeNull();
    // What was not ticked stays unticked (the signed-in admin is not the form's "admin").
    expect(await adminPage.locator('#admin').isChecked()).toBe(false);
    await screenshot(adminPage, 'user-new-error');

    await adminPage.locator('#email').fill('Created.In.Console@Example.com');
    await adminPage.locator('#password').fill('a fine password 1');
    await submit(adminPage, 'button:has-text("Create user")');
    await see(adminPage.locator('h1')).toHaveText('created.in.console@example.com');
    await see(adminPage.locator('p.notice[role="status"]')).toHaveText('The user was created.');
    await see(adminPage.locator('dl.facts div', { hasText: 'Roles' }).locator('dd')).toHaveText('—');
    expect(await adminPage.locator('form[action$="/roles"] #admin').isChecked()).toBe(false);
    // The new user can sign in.
    const createdId = decodeURIComponent(new URL(adminPage.url()).pathname.split('/').pop()!);
    const tokens = await rpLogin(await context(), { email: 'created.in.console@example.com', password: 'a fine password 1' });
    expect(tokens.claims()?.sub).toBe(createdId);
  });

  it('creates a client from JSON metadata; the secret is shown once and never on the client page', async () => {
    await adminPage.goto(url('/admin/clients'));
    await screenshot(adminPage, 'clients');
    await submit(adminPage, 'a.button:has-text("New client")');
    await adminPage.locator('#metadata').fill(JSON.stringify({
      client_name: 'Console Made App',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
    }));
    const [created] = await Promise.all([adminPage.waitForNavigation(), adminPage.locator('button:has-text("Create client")').click()]);
    expect(created!.status()).toBe(201);
    expect(created!.headers()['cache-control']).toContain('no-store');
    const secret = await adminPage.locator('#secret').inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const clientId = await adminPage.locator('main code').first().innerText();
    await screenshot(adminPage, 'client-created');

    // The secret shown works: a code flow of the new client authenticates with it at the token endpoint.
    const made = await discover(server, { clientId, clientSecret: secret });
    const tokens = await rpLogin(await context(), f, { scope: 'openid' }, made);
    expect(tokens.access_token).toBeTruthy();

    // Afterwards: listed, and its page says a secret is set without showing it.
    await submit(adminPage, 'a:has-text("Continue to the client")');
    await see(adminPage.locator('h1')).toHaveText('Console Made App');
    expect(await adminPage.content()).not.toContain(secret);
    await see(adminPage.locator('dl.facts')).toContainText('set (never shown again)');
    await adminPage.goto(url('/admin/clients'));
    await see(adminPage.locator('table')).toContainText('Console Made App');
    expect(await adminPage.content()).not.toContain(secret);
  });

  it('creates, edits and deletes an API', async () => {
    await adminPage.goto(url('/admin/apis'));
    await submit(adminPage, 'a.button:has-text("New API")');
    await adminPage.locator('#identifier').fill('https://console-api.example.com');
    await adminPage.locator('#name').fill('Console API');
    await adminPage.locator('#scopes').fill('orders:read orders:write');
    await adminPage.locator('#format').selectOption('opaque');
    // A lifetime that is not a number is refused, naming the field; what was typed stays.
    await adminPage.locator('#ttl').fill('soon');
    const [bad] = await Promise.all([adminPage.waitForNavigation(), adminPage.locator('button:has-text("Create API")').click()]);
    expect(bad!.status()).toBe(400);
    await see(adminPage.locator('#form-error')).toContainText('accessTokenTTL');
    await see(adminPage.locator('#ttl')).toHaveAttribute('aria-invalid', 'true');
    expect(await adminPage.locator('#identifier').getAttribute('aria-invalid')).toBeNull();
    await see(adminPage.locator('#identifier')).toHaveValue('https://console-api.example.com');
    await see(adminPage.locator('#scopes')).toHaveValue('orders:read orders:write');
    expect(await adminPage.locator('#format').inputValue()).toBe('opaque');
    await adminPage.locator('#ttl').fill('900');
    await submit(adminPage, 'button:has-text("Create API")');
    await see(adminPage.locator('p.notice[role="status"]')).toHaveText('The API was saved.');
    await see(adminPage.locator('#scopes')).toHaveValue('orders:read orders:write');
    await screenshot(adminPage, 'api');

    await adminPage.locator('#scopes').fill('orders:read');
    await adminPage.locator('#ttl').fill('120');
    await submit(adminPage, 'button:has-text("Save")');
    await see(adminPage.locator('p.notice[role="status"]')).toHaveText('The API was saved.');
    await adminPage.goto(url('/admin/apis'));
    const row = adminPage.locator('table tbody tr', { hasText: 'https://console-api.example.com' });
    await see(row).toContainText('Console API');
    await see(row).toContainText('orders:read');
    await see(row).not.toContainText('orders:write');
    await see(row).toContainText('opaque');
    await see(row).toContainText('120 s');

    await submit(adminPage, 'a:has-text("https://console-api.example.com")');
    const notice = await confirmAction(adminPage, 'button:has-text("Delete API")', /Delete this API\?/);
    expect(notice).toBe('The API was deleted.');
    expect(new URL(adminPage.url()).pathname).toBe('/admin/apis');
    await see(adminPage.locator('table')).not.toContainText('https://console-api.example.com');
  });

  it('an anonymous browser gets no console page: every one, /admin/apis included, sends it to sign in', async () => {
    const c = await context();
    const page = await c.newPage();
    for (const path of ['/admin', '/admin/users', '/admin/users/new', '/admin/clients', '/admin/clients/new', '/admin/apis', '/admin/apis/new', `/admin/apis/${encodeURIComponent(f.jwtApi)}`, '/admin/audit']) {
      await page.goto(url(path));
      expect(await onLoginPage(page), path).toBe(true);
    }
    // Without a console session a form post is refused before anything else happens.
    const res = await fetch(url('/admin/apis'), { method: 'POST', redirect: 'manual', body: new URLSearchParams({ identifier: 'https://anonymous.example.com', scopes: 'x' }) });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Your console session has ended');
  });

  it('a console POST without its CSRF token gets the 403 page and changes nothing', async () => {
    const user = await createUser(server, 'csrf-target@example.com', 'csrf target password');
    await openUser(adminPage, user.email);
    await adminPage.locator('form[action$="/disable"] input[name="csrf"]').evaluate((el) => el.remove());
    const [res] = await Promise.all([adminPage.waitForNavigation(), adminPage.locator('button:has-text("Disable account")').click()]);
    expect(res!.status()).toBe(403);
    await see(adminPage.locator('h1')).toHaveText('This form has expired');
    await openUser(adminPage, user.email);
    await see(adminPage.locator('#user-status')).toHaveText('active');
  });

  it('a non-admin who signs in to /admin gets the readable "not an administrator" page and no console session', async () => {
    const user = await createUser(server, 'not-admin@example.com', 'not an admin password');
    const c = await context();
    const page = await c.newPage();
    const response = await signInToConsole(page, user);
    expect(response!.status()).toBe(403);
    await see(page.locator('h1')).toHaveText('This account is not an administrator');
    expect((await c.cookies(url('/admin'))).some((k) => k.name === 'tessera.console')).toBe(false);
    await screenshot(page, 'not-an-admin');
    // Still no way in.
    await page.goto(url('/admin/users'));
    expect(new URL(page.url()).pathname).not.toMatch(/^\/admin\/users/);
    await see(page.locator('h1')).toHaveText('This account is not an administrator');

    // The page offers a way to switch accounts: out of Tessera, then the sign-in page asks again.
    await submit(page, 'a:has-text("Sign out to use another account")');
    await see(page.locator('h1')).toHaveText('Sign out of Tessera?');
    await submit(page, 'button[name="logout"].primary');
    expect(new URL(page.url()).pathname).toBe('/admin/signed-out');
    await submit(page, 'a:has-text("Sign in again")');
    expect(await onLoginPage(page)).toBe(true);
    await fillLogin(page, ADMIN);
    await see(page.locator('h1')).toHaveText('Dashboard');
  });

  it('"Sign out" ends the console session and the Tessera session: the next /admin visit asks to sign in again', async () => {
    const c = await context();
    const page = await c.newPage();
    await signInToConsole(page, ADMIN);
    await see(page.locator('h1')).toHaveText('Dashboard');
    await submit(page, '.admin-header button:has-text("Sign out")');
    // Tessera's own logout page (RP-initiated logout of the console client).
    if ((await page.locator('h1', { hasText: 'Sign out of Tessera?' }).count()) === 1) await submit(page, 'button[name="logout"].primary');
    expect(new URL(page.url()).pathname).toBe('/admin/signed-out');
    await see(page.locator('h1')).toHaveText('You are signed out of the console');
    expect((await c.cookies(url('/admin'))).some((k) => k.name === 'tessera.console')).toBe(false);

    await page.goto(url('/admin'));
    expect(await onLoginPage(page)).toBe(true);
    // The other admin browser is unaffected.
    await adminPage.goto(url('/admin'));
    await see(adminPage.locator('h1')).toHaveText('Dashboard');
  });
});
