import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { basicAuth } from '../support/http.js';
import { discover, login, logout, seed, type Fixture } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';
import {
  CREDENTIAL_CHANGE, createPollStream, newReceiver, poll, pollUntil, SESSION_REVOKED, setVerifier, ssf, TOKEN_REVOKED, VERIFICATION, type TestReceiver,
} from '../support/ssf.js';

/** The events of the SETs seen, decoded (after verification by the caller where it matters). */
const eventsOf = (sets: Record<string, string>) => Object.values(sets).map((set) => decodeJwt(set) as Record<string, any>);
const ofType = (sets: Record<string, string>, type: string) => eventsOf(sets).filter((p) => p.events?.[type]);

describe('SSF transmitter: metadata, streams, poll delivery', () => {
  let server: TestServer;
  let f: Fixture;
  let receiver: TestReceiver;

  beforeAll(async () => {
    server = await startServer();
    f = await seed(server);
    receiver = await newReceiver(server);
  });
  afterAll(async () => server?.cleanup());

  it('publishes SSF 1.0 metadata built from ISSUER, and an RS256 key of its own', async () => {
    const res = await fetch(`${server.issuer}/.well-known/ssf-configuration`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, any>;
    expect(meta).toMatchObject({
      spec_version: '1_0',
      issuer: server.issuer,
      jwks_uri: `${server.issuer}/ssf/jwks`,
      configuration_endpoint: `${server.issuer}/ssf/streams`,
      status_endpoint: `${server.issuer}/ssf/status`,
      verification_endpoint: `${server.issuer}/ssf/verify`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
      default_subjects: 'ALL',
    });
    expect(meta.delivery_methods_supported).toEqual(expect.arrayContaining(['urn:ietf:rfc:8936', 'urn:ietf:rfc:8935']));
    const keys = ((await (await fetch(meta.jwks_uri)).json()) as { keys: Record<string, unknown>[] }).keys;
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256' });
      expect(key.d).toBeUndefined();
    }
    // The SET key is not an access-token key: the issuer's /jwks does not carry it.
    const issuerKids = ((await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    for (const key of keys) expect(issuerKids).not.toContain(key.kid);
  });

  it('authorizes receivers: no token 401, a token without ssf.manage 403, a client not registered for SSF 403', async () => {
    expect((await ssf(server, null, 'GET', '/ssf/streams')).status).toBe(401);
    expect((await ssf(server, 'not-a-token', 'GET', '/ssf/streams')).status).toBe(401);
    const reader = await newReceiver(server, 'ssf.read');
    const denied = await ssf(server, reader.token, 'POST', '/ssf/streams', {});
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('insufficient_scope');
    expect((await ssf(server, reader.token, 'GET', '/ssf/streams')).status).toBe(200);
    // A client registered without the ssf scopes, whatever its token says.
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(f.rs.clientId, f.rs.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'ssf.manage' }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (body.access_token) expect((await ssf(server, body.access_token, 'GET', '/ssf/streams')).status).toBe(403);
    else expect(res.status).toBe(400);
  });

  it('stream CRUD: 201 with the whole configuration, aud from the receiver, read one or all, PATCH, PUT, DELETE 204', async () => {
    const created = await ssf(server, receiver.token, 'POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8936' }, aud: 'someone-else', description: 'replica 1' });
    expect(created.status).toBe(201);
    const config = created.body;
    expect(config).toMatchObject({ iss: server.issuer, aud: receiver.clientId, description: 'replica 1', delivery: { method: 'urn:ietf:rfc:8936' } });
    expect(config.delivery.endpoint_url).toBe(`${server.issuer}/ssf/poll/${config.stream_id}`);
    expect(config.events_delivered).toEqual(expect.arrayContaining([SESSION_REVOKED, TOKEN_REVOKED, CREDENTIAL_CHANGE]));
    expect(config.inactivity_timeout).toBeGreaterThan(0);

    const one = await ssf(server, receiver.token, 'GET', `/ssf/streams?stream_id=${config.stream_id}`);
    expect(one.body).toEqual(config);
    const all = await ssf(server, receiver.token, 'GET', '/ssf/streams');
    expect(all.body.map((s: { stream_id: string }) => s.stream_id)).toContain(config.stream_id);

    const patched = await ssf(server, receiver.token, 'PATCH', '/ssf/streams', { stream_id: config.stream_id, events_requested: [SESSION_REVOKED] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events_delivered: [SESSION_REVOKED], description: 'replica 1' });
    const replaced = await ssf(server, receiver.token, 'PUT', '/ssf/streams', { stream_id: config.stream_id, events_requested: [TOKEN_REVOKED] });
    expect(replaced.body.events_delivered).toEqual([TOKEN_REVOKED]);
    expect(replaced.body.description).toBeUndefined();

    // Another receiver neither sees nor changes it.
    const other = await newReceiver(server);
    expect((await ssf(server, other.token, 'GET', `/ssf/streams?stream_id=${config.stream_id}`)).status).toBe(404);
    expect((await ssf(server, other.token, 'GET', '/ssf/streams')).body).toEqual([]);
    expect((await ssf(server, other.token, 'DELETE', `/ssf/streams?stream_id=${config.stream_id}`)).status).toBe(404);
    expect((await ssf(server, other.token, 'POST', config.delivery.endpoint_url, {})).status).toBe(404);

    expect((await ssf(server, receiver.token, 'DELETE', `/ssf/streams?stream_id=${config.stream_id}`)).status).toBe(204);
    expect((await ssf(server, receiver.token, 'GET', `/ssf/streams?stream_id=${config.stream_id}`)).status).toBe(404);
  });

  it('a push stream keeps its authorization header to itself', async () => {
    const created = await ssf(server, receiver.token, 'POST', '/ssf/streams', {
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example/events', authorization_header: 'Bearer s3cret' },
    });
    expect(created.status).toBe(201);
    expect(created.body.delivery).toEqual({ method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example/events' });
    expect(JSON.stringify((await ssf(server, receiver.token, 'GET', '/ssf/streams')).body)).not.toContain('s3cret');
    await ssf(server, receiver.token, 'DELETE', `/ssf/streams?stream_id=${created.body.stream_id}`);
  });

  it('bad input: 400 naming the field, unknown stream 404', async () => {
    const cases: [unknown, string][] = [
      [{ delivery: { method: 'urn:example:carrier-pigeon' } }, 'delivery.method'],
      [{ delivery: { method: 'urn:ietf:rfc:8935' } }, 'delivery.endpoint_url'],
      [{ events_requested: 'all' }, 'events_requested'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await ssf(server, receiver.token, 'POST', '/ssf/streams', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', field });
      expect(res.body.error_description).toContain(field);
    }
    const broken = await ssf(server, receiver.token, 'POST', '/ssf/streams', '{"delivery":');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe('invalid_request');
    expect((await ssf(server, receiver.token, 'GET', '/ssf/streams?stream_id=nope')).status).toBe(404);
    expect((await ssf(server, receiver.token, 'POST', '/ssf/poll/nope', {})).status).toBe(404);
    expect((await ssf(server, receiver.token, 'DELETE', '/ssf/streams')).body.field).toBe('stream_id');
    const { pollUrl } = await createPollStream(server, receiver);
    const badPoll = await ssf(server, receiver.token, 'POST', pollUrl, { maxEvents: -1 });
    expect(badPoll.status).toBe(400);
    expect(badPoll.body.field).toBe('maxEvents');
    expect((await ssf(server, receiver.token, 'POST', pollUrl, { ack: 'x' })).body.field).toBe('ack');
  });

  it('logout: one session-revoked SET per client of the session, by the sid its tokens carry; SETs signed and shaped per SSF §4', async () => {
    const { streamId, pollUrl } = await createPollStream(server, receiver);
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    const sid = decodeJwt(tokens.access_token).sid as string;
    expect(sid).toBeTypeOf('string');
    await logout(config, browser, { idToken: tokens.id_token });

    const seen = await pollUntil(server, receiver, pollUrl, (s) => ofType(s, SESSION_REVOKED).length > 0);
    const verify = setVerifier(server);
    const [jti, set] = Object.entries(seen).find(([, s]) => decodeJwt(s).events && (decodeJwt(s).events as Record<string, unknown>)[SESSION_REVOKED])!;
    const { payload, header } = await verify(set, receiver.clientId);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'secevent+jwt' });
    expect(payload.jti).toBe(jti);
    expect(payload.txn).toBeTypeOf('string');
    expect(payload.iat).toBeTypeOf('number');
    expect(payload.sub).toBeUndefined();
    expect(payload.exp).toBeUndefined();
    expect(Object.keys(payload.events)).toEqual([SESSION_REVOKED]);
    expect(payload.sub_id).toEqual({ format: 'complex', user: { format: 'iss_sub', iss: server.issuer, sub: f.userId }, session: { format: 'opaque', id: sid } });
    const event = payload.events[SESSION_REVOKED];
    expect(event.initiating_entity).toBe('user');
    expect(event.reason_admin.en).toBeTypeOf('string');
    expect(Math.abs(event.event_timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect(event.tessera_valid_until).toBeGreaterThan(event.event_timestamp);
    // Acknowledged: nothing comes again.
    expect((await poll(server, receiver, pollUrl, { returnImmediately: true })).sets).toEqual({});
    expect(decodeProtectedHeader(set).kid).toBeTypeOf('string');
    await ssf(server, receiver.token, 'DELETE', `/ssf/streams?stream_id=${streamId}`);
  });

  it('long polling is woken by a logout; unacknowledged SETs come again; maxEvents 0 only acknowledges', async () => {
    const { streamId, pollUrl } = await createPollStream(server, receiver);
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    // A new stream first gets the earlier tests' revocations (the replay window): take them.
    const replayed = await poll(server, receiver, pollUrl, { returnImmediately: true, maxEvents: 1000 });
    expect(await poll(server, receiver, pollUrl, { ack: Object.keys(replayed.sets), maxEvents: 0 })).toEqual({ sets: {}, moreAvailable: false });
    const held = poll(server, receiver, pollUrl, { returnImmediately: false });
    // The poll is held (nothing is waiting), then the logout wakes it.
    const status = await ssf(server, receiver.token, 'GET', `/ssf/status?stream_id=${streamId}`);
    expect(status.body).toEqual({ stream_id: streamId, status: 'enabled' });
    await logout(config, browser, { idToken: tokens.id_token });
    const answer = await held;
    expect(ofType(answer.sets, SESSION_REVOKED).length).toBeGreaterThan(0);

    const again = await poll(server, receiver, pollUrl, { returnImmediately: true });
    expect(Object.keys(again.sets).sort()).toEqual(Object.keys(answer.sets).sort());
    const ackOnly = await poll(server, receiver, pollUrl, { ack: Object.keys(answer.sets), maxEvents: 0 });
    expect(ackOnly).toEqual({ sets: {}, moreAvailable: false });
    expect((await poll(server, receiver, pollUrl, { returnImmediately: true })).sets).toEqual({});
    await ssf(server, receiver.token, 'DELETE', `/ssf/streams?stream_id=${streamId}`);
  });

  it('verification: 204, then a verification SET carrying the state; asked again too soon, 429', async () => {
    const { streamId, pollUrl } = await createPollStream(server, receiver, { events_requested: [SESSION_REVOKED] });
    const res = await ssf(server, receiver.token, 'POST', '/ssf/verify', { stream_id: streamId, state: 'hello-42' });
    expect(res.status).toBe(204);
    const seen = await pollUntil(server, receiver, pollUrl, (s) => ofType(s, VERIFICATION).length > 0);
    const verification = Object.values(seen).find((set) => (decodeJwt(set).events as Record<string, unknown>)[VERIFICATION])!;
    const { payload } = await setVerifier(server)(verification, receiver.clientId);
    expect(payload.events[VERIFICATION]).toEqual({ state: 'hello-42' });
    expect(payload.sub_id).toEqual({ format: 'opaque', id: streamId });
    expect((await ssf(server, receiver.token, 'POST', '/ssf/verify', { stream_id: streamId })).status).toBe(429);
  });

  it('RFC 7009 revocation of one JWT: token-revoked with a jwt_id subject', async () => {
    const { pollUrl } = await createPollStream(server, receiver);
    const config = await discover(server, f.web);
    const tokens = await login(config, new Browser(), f, { scope: 'openid read', resource: f.jwtApi });
    const jti = decodeJwt(tokens.access_token).jti as string;
    const res = await fetch(`${server.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: basicAuth(f.web.clientId, f.web.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(res.status).toBe(200);
    const seen = await pollUntil(server, receiver, pollUrl, (s) => ofType(s, TOKEN_REVOKED).length > 0);
    const [event] = ofType(seen, TOKEN_REVOKED);
    expect(event!.sub_id).toEqual({ format: 'jwt_id', iss: server.issuer, jti });
    expect(event!.events[TOKEN_REVOKED].tessera_valid_until).toBe((decodeJwt(tokens.access_token).exp as number) + 60);
  });

  it('refresh-token replay detected by oidc-provider: the grant is announced, initiated by policy', async () => {
    const { pollUrl } = await createPollStream(server, receiver, { events_requested: [SESSION_REVOKED] });
    const replayed = await poll(server, receiver, pollUrl, { returnImmediately: true, maxEvents: 1000 });
    await poll(server, receiver, pollUrl, { ack: Object.keys(replayed.sets), maxEvents: 0 });
    const config = await discover(server, f.web);
    const tokens = await login(config, new Browser(), f, { scope: 'openid read', resource: f.jwtApi });
    const sid = decodeJwt(tokens.access_token).sid as string;
    const rotate = (refreshToken: string) => fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(f.web.clientId, f.web.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    expect((await rotate(tokens.refresh_token!)).status).toBe(200);
    const replay = await rotate(tokens.refresh_token!);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    const seen = await pollUntil(server, receiver, pollUrl, (s) => ofType(s, SESSION_REVOKED).length > 0);
    const [event] = ofType(seen, SESSION_REVOKED);
    expect(event!.sub_id).toEqual({ format: 'complex', user: { format: 'iss_sub', iss: server.issuer, sub: f.userId }, session: { format: 'opaque', id: sid } });
    expect(event!.events[SESSION_REVOKED].initiating_entity).toBe('policy');
  });

  it('sign out everywhere from the CLI: session-revoked for the whole subject; a password change also credential-change', async () => {
    const { pollUrl } = await createPollStream(server, receiver, { events_requested: [SESSION_REVOKED, CREDENTIAL_CHANGE] });
    const replayed = await poll(server, receiver, pollUrl, { returnImmediately: true, maxEvents: 1000 });
    await poll(server, receiver, pollUrl, { ack: Object.keys(replayed.sets), maxEvents: 0 });
    // The CLI is another process on the same database: its commit wakes the held poll.
    const held = poll(server, receiver, pollUrl, { returnImmediately: false });
    const signout = await cli(server, ['user', 'signout', f.email]);
    expect(signout.code).toBe(0);
    const woken = await held;
    expect(ofType(woken.sets, SESSION_REVOKED).map((p) => p.sub_id)).toContainEqual({ format: 'iss_sub', iss: server.issuer, sub: f.userId });
    let seen = { ...woken.sets, ...(await pollUntil(server, receiver, pollUrl, () => true)) };
    const subject = ofType(seen, SESSION_REVOKED).find((p) => p.sub_id.format === 'iss_sub')!;
    expect(subject.sub_id).toEqual({ format: 'iss_sub', iss: server.issuer, sub: f.userId });
    expect(subject.events[SESSION_REVOKED].initiating_entity).toBe('admin');

    const changed = await cli(server, ['user', 'set-password', f.email, '--password-stdin'], `${f.password}\n`);
    expect(changed.code).toBe(0);
    seen = await pollUntil(server, receiver, pollUrl, (s) => ofType(s, CREDENTIAL_CHANGE).length > 0);
    const change = ofType(seen, CREDENTIAL_CHANGE)[0]!;
    expect(change.sub_id).toEqual({ format: 'iss_sub', iss: server.issuer, sub: f.userId });
    expect(change.events[CREDENTIAL_CHANGE]).toMatchObject({ credential_type: 'password', change_type: 'update' });
  });

  it('a stream created after a logout still receives it (replay of the revocation window)', async () => {
    const config = await discover(server, f.web);
    const browser = new Browser();
    const tokens = await login(config, browser, f, { scope: 'openid read', resource: f.jwtApi });
    const sid = decodeJwt(tokens.access_token).sid as string;
    await logout(config, browser, { idToken: tokens.id_token });
    const late = await newReceiver(server);
    const { pollUrl } = await createPollStream(server, late);
    const answer = await poll(server, late, pollUrl, { returnImmediately: true, maxEvents: 1000 });
    expect(ofType(answer.sets, SESSION_REVOKED).map((p) => p.sub_id.session?.id)).toContain(sid);
    for (const set of Object.values(answer.sets)) expect(decodeJwt(set).aud).toBe(late.clientId);
  });

  it('status: a paused stream holds its SETs until enabled; a disabled one drops them', async () => {
    const { streamId, pollUrl } = await createPollStream(server, receiver, { events_requested: [SESSION_REVOKED] });
    await poll(server, receiver, pollUrl, { returnImmediately: true, maxEvents: 1000 }).then((a) => poll(server, receiver, pollUrl, { ack: Object.keys(a.sets), maxEvents: 0 }));
    expect((await ssf(server, receiver.token, 'POST', '/ssf/status', { stream_id: streamId, status: 'paused', reason: 'maintenance' })).body)
      .toEqual({ stream_id: streamId, status: 'paused', reason: 'maintenance' });
    expect((await cli(server, ['user', 'signout', f.email])).code).toBe(0);
    expect((await poll(server, receiver, pollUrl, { returnImmediately: true })).sets).toEqual({});
    await ssf(server, receiver.token, 'POST', '/ssf/status', { stream_id: streamId, status: 'enabled' });
    const held = await poll(server, receiver, pollUrl, { returnImmediately: true });
    expect(ofType(held.sets, SESSION_REVOKED).length).toBe(1);

    await ssf(server, receiver.token, 'POST', '/ssf/status', { stream_id: streamId, status: 'disabled' });
    expect((await cli(server, ['user', 'signout', f.email])).code).toBe(0);
    await ssf(server, receiver.token, 'POST', '/ssf/status', { stream_id: streamId, status: 'enabled' });
    expect((await poll(server, receiver, pollUrl, { returnImmediately: true })).sets).toEqual({});
    const bad = await ssf(server, receiver.token, 'POST', '/ssf/status', { stream_id: streamId, status: 'sleeping' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('status');
  });
});

describe('SSF transmitter under abuse', () => {
  let server: TestServer;
  let f: Fixture;

  beforeAll(async () => {
    server = await startServer({ SSF_RATE_LIMIT: '20', SSF_MAX_STREAMS: '3' });
    f = await seed(server);
  });
  afterAll(async () => server?.cleanup());

  it('one replica\'s acknowledgements never hide events from another stream; junk acks and setErrs lose nothing', async () => {
    const receiver = await newReceiver(server);
    const one = await createPollStream(server, receiver, { events_requested: [SESSION_REVOKED] });
    const two = await createPollStream(server, receiver, { events_requested: [SESSION_REVOKED] });
    expect((await cli(server, ['user', 'signout', f.email])).code).toBe(0);
    const first = await poll(server, receiver, one.pollUrl, { returnImmediately: true });
    expect(Object.keys(first.sets)).toHaveLength(1);
    const [jti] = Object.keys(first.sets);
    // The same SET (one signature per receiver) is waiting on the other stream; acking it on
    // stream one, and junk on stream two, leaves stream two's copy in place.
    await poll(server, receiver, one.pollUrl, { ack: [jti!], maxEvents: 0 });
    const junk = await poll(server, receiver, two.pollUrl, { ack: ['nope', '1.someone-else'], setErrs: { 'also-nope': { err: 'invalid_key' } }, returnImmediately: true });
    expect(Object.keys(junk.sets)).toEqual([jti]);
    expect(junk.sets[jti!]).toBe(first.sets[jti!]);
  });

  it('a receiver may hold only so many streams, and a flood of polls is rate limited (429 with Retry-After)', async () => {
    const receiver = await newReceiver(server);
    const created: number[] = [];
    for (let i = 0; i < 4; i += 1) created.push((await ssf(server, receiver.token, 'POST', '/ssf/streams', {})).status);
    expect(created).toEqual([201, 201, 201, 429]);
    const { body: streams } = await ssf(server, receiver.token, 'GET', '/ssf/streams');
    const pollUrl = streams[0].delivery.endpoint_url as string;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 25; i += 1) {
      const res = await ssf(server, receiver.token, 'POST', pollUrl, { returnImmediately: true });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Another receiver is not affected by this one's flood.
    const other = await newReceiver(server);
    expect((await ssf(server, other.token, 'GET', '/ssf/streams')).status).toBe(200);
    // Failed authentication counts against the address: a token-guessing flood is refused too.
    const guesses: number[] = [];
    for (let i = 0; i < 25; i += 1) guesses.push((await ssf(server, `guess-${i}`, 'GET', '/ssf/streams')).status);
    expect(guesses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(guesses).toContain(429);
  });
});
