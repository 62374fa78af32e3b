import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { createUser, createWebClient, openDb } from '../support/flows.js';
import { startReceiver, type CallbackReceiver, type Received } from '../support/receiver.js';
import { discover, login, logout, REDIRECT_URI } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('OIDC Back-Channel Logout', () => {
  let server: TestServer;
  let receiver: CallbackReceiver;
  let verify: (request: Received, aud: string) => Promise<{ payload: JWTPayload & Record<string, unknown>; header: Record<string, unknown> }>;

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startServer({ ALLOW_PRIVATE_CALLBACKS: 'true' });
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    verify = async (request, aud) => {
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const token = new URLSearchParams(request.body).get('logout_token');
      expect(token).toBeTruthy();
      const { payload, protectedHeader } = await jwtVerify(token!, jwks, { issuer: server.issuer, audience: aud, typ: 'logout+jwt' });
      return { payload: payload as JWTPayload & Record<string, unknown>, header: protectedHeader as Record<string, unknown> };
    };
  });
  afterAll(async () => {
    await server?.cleanup();
    await receiver?.close();
  });

  /** A web client whose back-channel logout URI is the receiver's `path`. */
  async function client(name: string, path: string) {
    const created = await createWebClient(server, name, { backchannel_logout_uri: `${receiver.url}${path}`, backchannel_logout_session_required: true });
    return { ...created, config: await discover(server, created) };
  }

  /** Waits until every queued logout token has been sent and answered (or given up). */
  async function deliveriesDrained(): Promise<void> {
    const db = await openDb(server);
    try {
      await expect.poll(async () => Number((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM "BackchannelDelivery"'))[0]!.n), { timeout: 15_000, interval: 50 }).toBe(0);
    } finally {
      await db.close();
    }
  }

  it('discovery advertises back-channel logout with sid', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });

  it('logout sends exactly one verified logout token to each client of the session', async () => {
    const user = await createUser(server, 'bcl-logout@example.com', 'bcl logout password');
    const a = await client('BCL A', '/bcl/a');
    const b = await client('BCL B', '/bcl/b');
    const browser = new Browser();
    const tokensA = await login(a.config, browser, user);
    const tokensB = await login(b.config, browser, user);
    const sidA = tokensA.claims?.sid;
    const sidB = tokensB.claims?.sid;
    expect(sidA).toBeTypeOf('string');
    expect(sidB).toBeTypeOf('string');

    const out = await logout(a.config, browser, { idToken: tokensA.id_token });
    expect(out.status).toBe(303);

    await expect.poll(() => receiver.at('/bcl/a').length + receiver.at('/bcl/b').length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    // Nothing more is queued for this logout: whatever arrived is all that will.
    await deliveriesDrained();
    expect(receiver.at('/bcl/a')).toHaveLength(1);
    expect(receiver.at('/bcl/b')).toHaveLength(1);

    for (const [request, c, sid] of [[receiver.at('/bcl/a')[0]!, a, sidA], [receiver.at('/bcl/b')[0]!, b, sidB]] as const) {
      const { payload, header } = await verify(request, c.clientId);
      expect(header).toMatchObject({ typ: 'logout+jwt', kid: expect.any(String) });
      expect(payload).toMatchObject({ iss: server.issuer, aud: c.clientId, sub: user.userId, sid, events: { [EVENT]: {} } });
      expect(payload.jti).toBeTypeOf('string');
      expect(payload).not.toHaveProperty('nonce');
      expect(payload.exp! - payload.iat!).toBe(120);
    }
  });

  it('"sign out everywhere" from the CLI sends a logout token for the session', async () => {
    const user = await createUser(server, 'bcl-cli@example.com', 'bcl cli password 1');
    const c = await client('BCL CLI', '/bcl/cli');
    const tokens = await login(c.config, new Browser(), user);

    const signout = await cli(server, ['user', 'signout', user.email]);
    expect(signout.code).toBe(0);

    await expect.poll(() => receiver.at('/bcl/cli').length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await deliveriesDrained();
    expect(receiver.at('/bcl/cli')).toHaveLength(1);
    const { payload } = await verify(receiver.at('/bcl/cli')[0]!, c.clientId);
    expect(payload).toMatchObject({ sub: user.userId, sid: tokens.claims?.sid, events: { [EVENT]: {} } });
  });

  it('a client that answers 500 gets the logout token again', async () => {
    receiver.answer((request, count) => (request.path === '/bcl/flaky' && count === 1 ? { status: 500, body: 'try later' } : { status: 200 }));
    const user = await createUser(server, 'bcl-retry@example.com', 'bcl retry password');
    const c = await client('BCL flaky', '/bcl/flaky');
    const browser = new Browser();
    const tokens = await login(c.config, browser, user);

    expect((await logout(c.config, browser, { idToken: tokens.id_token })).status).toBe(303);

    await expect.poll(() => receiver.at('/bcl/flaky').length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    await deliveriesDrained();
    const requests = receiver.at('/bcl/flaky');
    expect(requests).toHaveLength(2);
    const [first, second] = await Promise.all(requests.map((r) => verify(r, c.clientId)));
    expect(second!.payload).toMatchObject({ sub: user.userId, sid: tokens.claims?.sid });
    expect(second!.payload.sid).toBe(first!.payload.sid);
    // Each attempt is a token of its own (Back-Channel Logout 1.0 §2.4: jti unique per token).
    expect(second!.payload.jti).not.toBe(first!.payload.jti);
    expect(server.output()).toContain('"event":"backchannel.retry"');
    expect(server.output()).not.toContain(new URLSearchParams(requests[0]!.body).get('logout_token')!);
  });

  it('a client without backchannel_logout_uri gets nothing, and other clients are not held up by it', async () => {
    const user = await createUser(server, 'bcl-none@example.com', 'bcl none password');
    const plain = await createWebClient(server, 'No BCL');
    const c = await client('BCL with plain', '/bcl/with-plain');
    const browser = new Browser();
    const tokens = await login(await discover(server, plain), browser, user);
    await login(c.config, browser, user);
    const before = receiver.received.length;

    expect((await logout(await discover(server, plain), browser, { idToken: tokens.id_token })).status).toBe(303);
    await expect.poll(() => receiver.at('/bcl/with-plain').length, { timeout: 15_000, interval: 50 }).toBe(1);
    await deliveriesDrained();
    expect(receiver.received.slice(before).map((r) => r.path)).toEqual(['/bcl/with-plain']);
    expect(decodeJwt(new URLSearchParams(receiver.at('/bcl/with-plain')[0]!.body).get('logout_token')!).aud).toBe(c.clientId);
  });

  it('without ALLOW_PRIVATE_CALLBACKS a loopback or http backchannel_logout_uri is refused, naming the field', async () => {
    const strict = { dir: server.dir, env: { ...server.env, ALLOW_PRIVATE_CALLBACKS: 'false' } };
    const metadata = (uri: string) => JSON.stringify({ client_name: 'Refused', redirect_uris: [REDIRECT_URI], backchannel_logout_uri: uri });

    const http = await cli(strict, ['client', 'create'], metadata(`${receiver.url}/bcl/refused`));
    expect(http.code).toBe(1);
    expect(http.stderr).toContain('backchannel_logout_uri: must be an https URL');

    const loopback = await cli(strict, ['client', 'create'], metadata('https://127.0.0.1/bcl'));
    expect(loopback.code).toBe(1);
    expect(loopback.stderr).toContain('backchannel_logout_uri: must not point at a loopback address (set ALLOW_PRIVATE_CALLBACKS=true to allow)');

    // The same registration passes where private callbacks are allowed.
    const allowed = await cli(server, ['client', 'create'], metadata(`${receiver.url}/bcl/allowed`));
    expect(allowed.code).toBe(0);
  });
});
