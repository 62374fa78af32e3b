import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { openDb } from '../support/flows.js';
import { startReceiver, type CallbackReceiver, type Received } from '../support/receiver.js';
import { discover, login, logout, seed, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { newReceiver, SESSION_REVOKED, ssf, VERIFICATION, type TestReceiver } from '../support/ssf.js';

const PUSH = 'urn:ietf:rfc:8935';

const jtiOf = (request: Received): string => decodeJwt(request.body).jti!;
const stateOf = (request: Received): unknown => (decodeJwt(request.body).events as Record<string, { state?: unknown }> | undefined)?.[VERIFICATION]?.state;

describe('SSF push delivery (RFC 8935)', () => {
  let server: TestServer;
  let f: Fixture;
  let receiver: TestReceiver;
  let callbacks: CallbackReceiver;
  /** Attempts per path and jti, so a receiver can fail the first delivery of each SET. */
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    callbacks = await startReceiver();
    callbacks.answer((request) => {
      const key = `${request.path} ${jtiOf(request)}`;
      const count = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, count);
      if (request.path === '/push/flaky' && count === 1) return { status: 500, body: 'busy' };
      if (request.path === '/push/reject') {
        return { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_audience', description: 'not for us' }) };
      }
      return { status: 202 };
    });
    server = await startServer({ ALLOW_PRIVATE_CALLBACKS: 'true' });
    f = await seed(server);
    receiver = await newReceiver(server);
  });
  afterAll(async () => {
    await server?.cleanup();
    await callbacks?.close();
  });

  async function pushStream(path: string, authorization?: string): Promise<string> {
    const res = await ssf(server, receiver.token, 'POST', '/ssf/streams', {
      delivery: { method: PUSH, endpoint_url: `${callbacks.url}${path}`, ...(authorization ? { authorization_header: authorization } : {}) },
      events_requested: [SESSION_REVOKED],
    });
    if (res.status !== 201) throw new Error(`stream create answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.stream_id as string;
  }

  /** Waits until nothing is queued for the stream: every SET was accepted, rejected or dropped. */
  async function drained(streamId: string): Promise<void> {
    const db = await openDb(server);
    try {
      await expect.poll(async () => Number((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM "SsfDelivery" WHERE "streamId" = $1', [streamId]))[0]!.n), { timeout: 15_000, interval: 50 }).toBe(0);
    } finally {
      await db.close();
    }
  }

  async function verifier() {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/ssf-configuration`)).json()) as { jwks_uri: string };
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
    return (set: string) => jwtVerify(set, jwks, { issuer: server.issuer, audience: receiver.clientId, typ: 'secevent+jwt', algorithms: ['RS256'] });
  }

  it('a logout reaches the push endpoint as a signed SET, with the stream\'s Authorization header', async () => {
    const streamId = await pushStream('/push/main', 'Bearer push-secret-1');
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    const sid = decodeJwt(tokens.access_token).sid as string;
    expect((await logout(config, browser, { idToken: tokens.id_token })).status).toBe(303);

    const isOurs = (r: Received) => (decodeJwt(r.body).sub_id as { session?: { id?: string } } | undefined)?.session?.id === sid;
    await expect.poll(() => callbacks.at('/push/main').filter(isOurs).length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await drained(streamId);
    const ours = callbacks.at('/push/main').filter(isOurs);
    expect(ours).toHaveLength(1);
    const request = ours[0]!;
    expect(request.headers['content-type']).toBe('application/secevent+jwt');
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers.authorization).toBe('Bearer push-secret-1');
    const { payload, protectedHeader } = await (await verifier())(request.body);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'secevent+jwt' });
    expect(payload.aud).toBe(receiver.clientId);
    expect(payload.sub_id).toEqual({ format: 'complex', user: { format: 'iss_sub', iss: server.issuer, sub: f.userId }, session: { format: 'opaque', id: sid } });
    expect(Object.keys(payload.events as object)).toEqual([SESSION_REVOKED]);
    // Neither the SET nor the push secret is ever logged.
    expect(server.output()).not.toContain(request.body);
    expect(server.output()).not.toContain('push-secret-1');
  });

  it('a receiver answering 500 gets the same SET again', async () => {
    const streamId = await pushStream('/push/flaky');
    expect((await ssf(server, receiver.token, 'POST', '/ssf/verify', { stream_id: streamId, state: 'retry-me' })).status).toBe(204);

    const verification = (): Received[] => callbacks.at('/push/flaky').filter((r) => stateOf(r) === 'retry-me');
    await expect.poll(() => verification().length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    await drained(streamId);
    const [first, second, ...rest] = verification();
    expect(rest).toHaveLength(0);
    expect(jtiOf(second!)).toBe(jtiOf(first!));
    const { payload } = await (await verifier())(second!.body);
    expect(payload.sub_id).toEqual({ format: 'opaque', id: streamId });
    expect(server.output()).toContain('"event":"ssf.push.retry"');
  });

  it('a 400 from the receiver is final: the SET is not sent again, and the reason is logged', async () => {
    const streamId = await pushStream('/push/reject');
    expect((await ssf(server, receiver.token, 'POST', '/ssf/verify', { stream_id: streamId, state: 'reject-me' })).status).toBe(204);

    const verification = (): Received[] => callbacks.at('/push/reject').filter((r) => stateOf(r) === 'reject-me');
    await expect.poll(() => verification().length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await drained(streamId);
    expect(verification()).toHaveLength(1);
    // Every SET the stream got (replayed ones too) was sent exactly once.
    const jtis = callbacks.at('/push/reject').map(jtiOf);
    expect(new Set(jtis).size).toBe(jtis.length);
    await expect.poll(() => server.output().includes('"event":"ssf.push.rejected"'), { timeout: 5000 }).toBe(true);
    expect(server.output()).toContain('invalid_audience');
  });
});
