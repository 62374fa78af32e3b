import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser, formAction, hiddenInput } from '../support/browser.js';
import { cli, startServer, type TestServer } from '../support/server.js';

type Json = Record<string, unknown>;

describe('admin API with the console session (cookie + X-CSRF-Token)', () => {
  let server: TestServer;
  let browser: Browser;
  let csrf: string;
  let adminId: string;

  beforeAll(async () => {
    server = await startServer();
    const created = await cli(server, ['admin', 'create', '--email', 'console-admin@example.com', '--password-stdin'], 'console admin password\n');
    adminId = (JSON.parse(created.stdout) as { id: string }).id;
    browser = new Browser();
    // The console signs in through Tessera's own login page (an OIDC code flow of its own client).
    const login = await browser.follow(`${server.issuer}/admin`);
    const page = await login.res!.text();
    const signedIn = await browser.follow(new URL(formAction(page, /\/login$/), server.issuer).toString(), {
      form: { csrf: hiddenInput(page, 'csrf'), email: 'console-admin@example.com', password: 'console admin password' },
    });
    expect(signedIn.url).toBe(`${server.issuer}/admin`);
    csrf = hiddenInput(await signedIn.res!.text(), 'csrf');
  });
  afterAll(async () => server?.cleanup());

  async function call(method: string, path: string, options: { body?: unknown; csrf?: string } = {}): Promise<{ status: number; body: Json }> {
    const url = `${server.issuer}/admin/api${path}`;
    const headers: Record<string, string> = { accept: 'application/json', cookie: await browser.jar.getCookieString(url) };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.csrf) headers['x-csrf-token'] = options.csrf;
    const res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it('reads with the session alone; changes need the console CSRF token in X-CSRF-Token', async () => {
    const list = await call('GET', '/users?q=console-admin');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ id: adminId })]);

    const input = { email: 'made-by-console@example.com', password: 'made by console 1' };
    const without = await call('POST', '/users', { body: input });
    expect(without.status).toBe(403);
    const wrong = await call('POST', '/users', { body: input, csrf: 'not-the-token' });
    expect(wrong.status).toBe(403);
    expect((await call('GET', '/users?q=made-by-console')).body.total).toBe(0);
    // Refused, and audited under the admin's name (the session was valid, the header missing).
    const refusals = await call('GET', `/audit?action=admin.denied&actor=${adminId}`);
    expect(refusals.body.items).toHaveLength(2);
    expect((refusals.body.items as Json[])[0]).toMatchObject({ outcome: 'failure', actor: { type: 'admin', id: adminId }, details: { method: 'POST' } });

    const made = await call('POST', '/users', { body: input, csrf });
    expect(made.status).toBe(201);
    const audit = await call('GET', `/audit?action=user.create&target=${String(made.body.id)}`);
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: { type: 'admin', id: adminId, label: 'console-admin@example.com' } })]);
  });

  it('the session dies with its grant: after "sign out everywhere" of the admin, the next call is 401', async () => {
    const signout = await call('POST', `/users/${adminId}/signout`, { csrf });
    expect(signout.status).toBe(200);
    expect((signout.body.revoked as Json).grants).toBeGreaterThanOrEqual(1);
    const after = await call('GET', '/users');
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthorized');
  });
});
