import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

import { createRevocationFeed, type RevocationFeed } from '@tessera/resource-server';
import express from 'express';
import { expressjwt } from 'express-jwt';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import jwksRsa from 'jwks-rsa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { basicAuth, freePort } from '../support/http.js';
import { discover, login, logout, seed, type Fixture } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';
import { registerReceiver } from '../support/ssf.js';

/**
 * The seed's API (express 5 + express-jwt 8 + jwks-rsa 4, validating Tessera's ES256 JWTs
 * locally) with the one added line, `isRevoked: feed.isRevoked`, against the real server.
 */
interface Api {
  url: string;
  feed: RevocationFeed;
  call(token: string): Promise<number>;
  close(): Promise<void>;
}

async function startApi(server: TestServer, f: Fixture, receiver: { clientId: string; clientSecret: string }, options: { staleAfterSeconds?: number; issuer?: string } = {}): Promise<Api> {
  const issuer = options.issuer ?? server.issuer;
  const feed = createRevocationFeed({ issuer, clientId: receiver.clientId, clientSecret: receiver.clientSecret, staleAfterSeconds: options.staleAfterSeconds, logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
  await feed.ready();
  const app = express();
  app.use(expressjwt({
    secret: jwksRsa.expressJwtSecret({ jwksUri: `${issuer}/jwks`, cache: true, rateLimit: true }) as never,
    audience: f.jwtApi,
    issuer,
    algorithms: ['ES256'],
    isRevoked: feed.isRevoked,
  }));
  app.get('/data', (_req, res) => void res.json({ ok: true }));
  const http: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    feed,
    call: async (token) => (await fetch(`${url}/data`, { headers: { authorization: `Bearer ${token}` } })).status,
    async close() {
      await feed.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** Waits for `check` to hold (a loaded machine may take a moment), failing after `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Tessera's HTTP requests other than the feed's own polls and status checks. */
const tesseraRequests = (server: TestServer): number =>
  server.output().split('\n').filter((line) => line.includes('"event":"http"') && !line.includes('"path":"/ssf/')).length;

describe('@tessera/resource-server: an API validating JWTs locally learns of every revocation', () => {
  let server: TestServer;
  /** The first server owns the directory and database (a restarted one shares them). */
  let owner: TestServer;
  let f: Fixture;
  let receiver: { clientId: string; clientSecret: string };
  let api: Api;

  beforeAll(async () => {
    const port = await freePort();
    server = await startServer({ PORT: String(port), ISSUER: `http://127.0.0.1:${port}` });
    owner = server;
    f = await seed(server);
    receiver = await registerReceiver(server);
    api = await startApi(server, f, receiver);
  });
  afterAll(async () => {
    await api?.close();
    await server?.cleanup();
    if (owner && owner !== server) await owner.cleanup();
  });

  const signIn = async (browser = new Browser()) => {
    const config = await discover(server, f.web);
    return { config, browser, tokens: await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi }) };
  };

  it('before logout 200; right after logout 401, with no request to Tessera per API call', async () => {
    const { config, browser, tokens } = await signIn();
    expect(await api.call(tokens.access_token)).toBe(200);
    const before = tesseraRequests(server);
    for (let i = 0; i < 20; i += 1) expect(await api.call(tokens.access_token)).toBe(200);
    expect(tesseraRequests(server)).toBe(before);

    await logout(config, browser, { idToken: tokens.id_token });
    await eventually(async () => (await api.call(tokens.access_token)) === 401);
    // The token itself is still a valid ES256 JWT: only the feed knows it is revoked.
    const verified = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { audience: f.jwtApi, issuer: server.issuer });
    expect(verified.payload.sid).toBeTypeOf('string');
    expect(api.feed.revoked(verified.payload)).toBe(true);
  });

  it('sign out everywhere from the CLI: earlier tokens 401; a token from a new sign-in right after is accepted', async () => {
    const { tokens } = await signIn();
    expect(await api.call(tokens.access_token)).toBe(200);
    expect((await cli(server, ['user', 'signout', f.email])).code).toBe(0);
    await eventually(async () => (await api.call(tokens.access_token)) === 401);
    // A token issued in the same second as the revocation may be caught; later ones are not.
    await eventually(async () => {
      const again = await signIn();
      return (await api.call(again.tokens.access_token)) === 200;
    }, 15_000);
  });

  it('RFC 7009 revocation of one JWT: that token 401, another of the same session still 200', async () => {
    const browser = new Browser();
    const { config, tokens } = await signIn(browser);
    const second = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    const res = await fetch(`${server.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: basicAuth(f.web.clientId, f.web.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(res.status).toBe(200);
    await eventually(async () => (await api.call(tokens.access_token)) === 401);
    expect(await api.call(second.access_token)).toBe(200);
  });

  it('an API started after the logout still rejects the logged-out token (the new stream gets the recent window)', async () => {
    const { config, browser, tokens } = await signIn();
    await logout(config, browser, { idToken: tokens.id_token });
    const late = await startApi(server, f, await registerReceiver(server));
    try {
      expect(await late.call(tokens.access_token)).toBe(401);
      expect(late.feed.revoked(decodeJwt(tokens.access_token))).toBe(true);
    } finally {
      await late.close();
    }
  });

  it('Koa middleware (after koa-jwt): 401 for a revoked ctx.state.user, next() otherwise', async () => {
    const { config, browser, tokens } = await signIn();
    const middleware = api.feed.koa();
    const run = async (payload: Record<string, unknown>) => {
      const ctx = { state: { user: payload }, status: 404, body: undefined as unknown, set: () => undefined };
      let reached = false;
      await middleware(ctx, async () => {
        reached = true;
      });
      return { reached, status: ctx.status };
    };
    expect((await run(decodeJwt(tokens.access_token))).reached).toBe(true);
    await logout(config, browser, { idToken: tokens.id_token });
    await eventually(async () => (await run(decodeJwt(tokens.access_token))).status === 401);
  });

  it('fails closed: Tessera stopped → 503 after staleAfterSeconds; recovers by itself after a restart', async () => {
    const strict = await startApi(server, f, await registerReceiver(server), { staleAfterSeconds: 2 });
    try {
      const { tokens } = await signIn();
      expect(await strict.call(tokens.access_token)).toBe(200);
      await server.stop();
      await eventually(async () => (await strict.call(tokens.access_token)) === 503, 20_000);
      expect(() => strict.feed.revoked(decodeJwt(tokens.access_token))).toThrow(expect.objectContaining({ status: 503 }));
      // Same directory, database, port and issuer.
      const port = new URL(server.issuer).port;
      server = await startServer({ PORT: port, ISSUER: server.issuer }, { dir: server.dir });
      await eventually(async () => (await strict.call(tokens.access_token)) === 200, 30_000);
    } finally {
      await strict.close();
    }
  });
});
