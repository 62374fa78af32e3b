import { afterAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { createWebClient } from '../support/flows.js';
import { discover, login } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';

type Json = Record<string, unknown>;

describe('ADMIN_BOOTSTRAP_EMAIL / ADMIN_BOOTSTRAP_PASSWORD', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.cleanup();
  });

  it('creates the first admin at start, and only while there is no enabled admin', async () => {
    const first = await startServer({ ADMIN_BOOTSTRAP_EMAIL: 'first@example.com', ADMIN_BOOTSTRAP_PASSWORD: 'first admin password' });
    servers.push(first);
    const users = JSON.parse((await cli(first, ['user', 'list'])).stdout) as Json[];
    expect(users).toEqual([expect.objectContaining({ email: 'first@example.com', roles: ['admin'], disabled: false })]);
    // The password from the environment is the admin's password.
    const client = await createWebClient(first, 'bootstrap check');
    const tokens = await login(await discover(first, client), new Browser(), { email: 'first@example.com', password: 'first admin password' });
    expect(tokens.access_token).toBeTypeOf('string');
    await first.stop();

    // Restarting on the same database with other bootstrap values adds nobody: an admin exists.
    const second = await startServer({ ADMIN_BOOTSTRAP_EMAIL: 'second@example.com', ADMIN_BOOTSTRAP_PASSWORD: 'second admin password' }, { dir: first.dir });
    servers.push(second);
    const after = JSON.parse((await cli(second, ['user', 'list'])).stdout) as Json[];
    expect(after.map((u) => u.email)).toEqual(['first@example.com']);
  });
});
