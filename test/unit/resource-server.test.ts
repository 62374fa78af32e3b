import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RevocationFeedStaleError } from '../../packages/resource-server/src/errors.js';
import { CREDENTIAL_CHANGE, SESSION_REVOKED, STREAM_UPDATED, TOKEN_REVOKED, VERIFICATION } from '../../packages/resource-server/src/event-types.js';
import { createRevocationFeed } from '../../packages/resource-server/src/feed.js';
import type { KoaContextLike, RevocationFeed } from '../../packages/resource-server/src/feed-types.js';
import { RevocationSet, type SetClaims } from '../../packages/resource-server/src/revocation-set.js';
import { SetVerificationError, verifySet } from '../../packages/resource-server/src/verify-set.js';

const ISS = 'https://tessera.test';
const NOW = 1_700_000_000;

let jtiCounter = 0;
function set(type: string, subId: unknown, event: Record<string, unknown> = {}, iss = ISS): SetClaims {
  return { iss, jti: `set-${++jtiCounter}`, iat: NOW, sub_id: subId, events: { [type]: { event_timestamp: NOW, ...event } } };
}
const user = (sub: string, iss = ISS) => ({ format: 'iss_sub', iss, sub });
const opaque = (id: string) => ({ format: 'opaque', id });
const token = (claims: Record<string, unknown>) => ({ iss: ISS, sub: 'alice', client_id: 'app', iat: NOW - 10, jti: 'at-1', ...claims });

describe('RevocationSet: session-revoked', () => {
  it('a. complex user + session: every token of that session, whatever its iat; sub must match', () => {
    const revocations = new RevocationSet();
    expect(revocations.apply(set(SESSION_REVOKED, { format: 'complex', user: user('alice'), session: opaque('sid-1') }), NOW)).toMatchObject({ effect: 'revoked', rule: 'session' });
    expect(revocations.matches(token({ sid: 'sid-1' }))).toBe(true);
    expect(revocations.matches(token({ sid: 'sid-1', iat: NOW + 3600 }))).toBe(true); // later tokens of the session too
    expect(revocations.matches(token({ sid: 'sid-1', iat: undefined }))).toBe(true);
    expect(revocations.matches(token({ sid: 'sid-2' }))).toBe(false);
    expect(revocations.matches(token({ sid: undefined }))).toBe(false);
    expect(revocations.matches(token({ sid: 'sid-1', sub: 'bob' }))).toBe(false);
    expect(revocations.matches(token({ sid: 'sid-1', iss: 'https://other.test' }))).toBe(false);
  });

  it('a. a session without user matches any sub; with application it needs that client_id too', () => {
    const revocations = new RevocationSet();
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque('sid-1') }), NOW);
    expect(revocations.matches(token({ sid: 'sid-1', sub: 'bob' }))).toBe(true);
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque('sid-2'), application: opaque('app') }), NOW);
    expect(revocations.matches(token({ sid: 'sid-2' }))).toBe(true);
    expect(revocations.matches(token({ sid: 'sid-2', client_id: 'other' }))).toBe(false);
    // A second rule for the same session with other members is kept beside the first.
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque('sid-2'), application: opaque('other') }), NOW);
    expect(revocations.matches(token({ sid: 'sid-2', client_id: 'other' }))).toBe(true);
    expect(revocations.matches(token({ sid: 'sid-2', client_id: 'third' }))).toBe(false);
    expect(revocations.size).toBe(3);
  });

  it('a. the session is revoked for the user issuer named in sub_id', () => {
    const revocations = new RevocationSet();
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', user: user('alice', 'https://idp.test'), session: opaque('sid-1') }), NOW);
    expect(revocations.matches(token({ sid: 'sid-1', iss: 'https://idp.test' }))).toBe(true);
    expect(revocations.matches(token({ sid: 'sid-1' }))).toBe(false);
  });

  it('b. iss_sub: tokens issued at or before event_timestamp (whole seconds), not later ones', () => {
    const revocations = new RevocationSet();
    expect(revocations.apply(set(SESSION_REVOKED, user('alice')), NOW)).toMatchObject({ effect: 'revoked', rule: 'subject' });
    expect(revocations.matches(token({ iat: NOW - 1000 }))).toBe(true);
    expect(revocations.matches(token({ iat: NOW }))).toBe(true); // equal second: revoked
    expect(revocations.matches(token({ iat: NOW + 1 }))).toBe(false); // signed in again: accepted
    expect(revocations.matches(token({ iat: undefined }))).toBe(true); // no iat: fail closed
    expect(revocations.matches(token({ iat: 'yesterday' }))).toBe(true);
    expect(revocations.matches(token({ sub: 'bob' }))).toBe(false);
    expect(revocations.matches(token({ iss: 'https://other.test' }))).toBe(false);
    expect(revocations.matches({ sub: 'alice', iat: NOW })).toBe(false); // no iss: nothing to match
  });

  it('c. user + application: that user\'s tokens for that client, iat cutoff', () => {
    const revocations = new RevocationSet();
    expect(revocations.apply(set(SESSION_REVOKED, { format: 'complex', user: user('alice'), application: opaque('app') }), NOW)).toMatchObject({ rule: 'subject-client' });
    expect(revocations.matches(token({}))).toBe(true);
    expect(revocations.matches(token({ iat: NOW }))).toBe(true);
    expect(revocations.matches(token({ iat: NOW + 1 }))).toBe(false);
    expect(revocations.matches(token({ iat: undefined }))).toBe(true);
    expect(revocations.matches(token({ client_id: 'other' }))).toBe(false);
    expect(revocations.matches(token({ client_id: undefined }))).toBe(false);
    expect(revocations.matches(token({ sub: 'bob' }))).toBe(false);
  });

  it('d. application only: the client\'s tokens of the SET issuer (client_credentials ones too), iat cutoff', () => {
    const revocations = new RevocationSet();
    expect(revocations.apply(set(SESSION_REVOKED, { format: 'complex', application: opaque('app') }), NOW)).toMatchObject({ rule: 'client' });
    expect(revocations.matches(token({}))).toBe(true);
    expect(revocations.matches(token({ sub: undefined }))).toBe(true);
    expect(revocations.matches(token({ sub: 'bob', iat: NOW }))).toBe(true);
    expect(revocations.matches(token({ iat: NOW + 1 }))).toBe(false);
    expect(revocations.matches(token({ iat: undefined }))).toBe(true);
    expect(revocations.matches(token({ client_id: 'other' }))).toBe(false);
    expect(revocations.matches(token({ iss: 'https://other.test' }))).toBe(false);
  });

  it('a later event raises the cutoff; an older one delivered late does not lower it; re-delivery is idempotent', () => {
    const revocations = new RevocationSet();
    const first = set(SESSION_REVOKED, user('alice'));
    revocations.apply(first, NOW);
    revocations.apply(set(SESSION_REVOKED, user('alice'), { event_timestamp: NOW + 100 }), NOW + 100);
    expect(revocations.matches(token({ iat: NOW + 100 }))).toBe(true);
    revocations.apply(first, NOW + 100);
    expect(revocations.matches(token({ iat: NOW + 100 }))).toBe(true);
    expect(revocations.matches(token({ iat: NOW + 101 }))).toBe(false);
    expect(revocations.size).toBe(1);
  });

  it('without event_timestamp, the SET iat is the cutoff', () => {
    const revocations = new RevocationSet();
    const claims = set(SESSION_REVOKED, user('alice'));
    claims.events[SESSION_REVOKED] = {};
    claims.iat = NOW + 5;
    revocations.apply(claims, NOW);
    expect(revocations.matches(token({ iat: NOW + 5 }))).toBe(true);
    expect(revocations.matches(token({ iat: NOW + 6 }))).toBe(false);
  });

  it('unknown subject formats and members are ignored (no effect), as are malformed members', () => {
    const revocations = new RevocationSet();
    const ignored = [
      { format: 'email', email: 'alice@example.test' },
      { format: 'complex', user: user('alice'), device: opaque('d1') },
      { format: 'complex', user: { format: 'email', email: 'a@b' } },
      { format: 'complex', session: { format: 'uri', uri: 'x' } },
      { format: 'complex' },
      { format: 'iss_sub', iss: ISS },
      undefined,
    ];
    for (const subId of ignored) expect(revocations.apply(set(SESSION_REVOKED, subId), NOW)).toMatchObject({ effect: 'ignored' });
    expect(revocations.apply(set('https://example.test/event/unknown', user('alice')), NOW)).toMatchObject({ effect: 'ignored' });
    expect(revocations.size).toBe(0);
    expect(revocations.matches(token({ sid: 'sid-1' }))).toBe(false);
  });
});

describe('RevocationSet: other events', () => {
  it('token-revoked: the token with that iss and jti', () => {
    const revocations = new RevocationSet();
    expect(revocations.apply(set(TOKEN_REVOKED, { format: 'jwt_id', iss: ISS, jti: 'at-1' }), NOW)).toMatchObject({ effect: 'revoked', rule: 'jti' });
    expect(revocations.matches(token({}))).toBe(true);
    expect(revocations.matches(token({ iat: NOW + 3600 }))).toBe(true);
    expect(revocations.matches(token({ jti: 'at-2' }))).toBe(false);
    expect(revocations.matches(token({ iss: 'https://other.test' }))).toBe(false);
    expect(revocations.apply(set(TOKEN_REVOKED, user('alice')), NOW)).toMatchObject({ effect: 'ignored' });
  });

  it('credential-change, verification and stream-updated revoke nothing', () => {
    const revocations = new RevocationSet();
    for (const type of [CREDENTIAL_CHANGE, VERIFICATION, STREAM_UPDATED]) {
      expect(revocations.apply(set(type, user('alice'), { change_type: 'update', state: 'x', status: 'enabled' }), NOW)).toEqual({ effect: 'none' });
    }
    expect(revocations.size).toBe(0);
    expect(revocations.matches(token({}))).toBe(false);
  });
});

describe('RevocationSet: expiry and bound', () => {
  it('keeps an entry until tessera_valid_until + 60 s', () => {
    const revocations = new RevocationSet();
    revocations.apply(set(SESSION_REVOKED, user('alice'), { tessera_valid_until: NOW + 600 }), NOW);
    expect(revocations.sweep(NOW + 660)).toBe(0);
    expect(revocations.matches(token({}))).toBe(true);
    expect(revocations.sweep(NOW + 661)).toBe(1);
    expect(revocations.matches(token({}))).toBe(false);
    expect(revocations.size).toBe(0);
  });

  it('without tessera_valid_until: event_timestamp + maxTokenLifetimeSeconds + 60 s', () => {
    const revocations = new RevocationSet({ maxTokenLifetimeSeconds: 3600 });
    revocations.apply(set(TOKEN_REVOKED, { format: 'jwt_id', iss: ISS, jti: 'at-1' }), NOW);
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque('sid-1') }), NOW);
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', user: user('alice'), application: opaque('app') }), NOW);
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', application: opaque('app') }), NOW);
    expect(revocations.size).toBe(4);
    expect(revocations.sweep(NOW + 3660)).toBe(0);
    expect(revocations.sweep(NOW + 3661)).toBe(4);
    expect(revocations.matches(token({ sid: 'sid-1' }))).toBe(false);
    // Default: a day.
    const defaults = new RevocationSet();
    defaults.apply(set(SESSION_REVOKED, user('alice')), NOW);
    expect(defaults.sweep(NOW + 86_460)).toBe(0);
    expect(defaults.sweep(NOW + 86_461)).toBe(1);
  });

  it('an event whose tokens have all expired already is not kept', () => {
    const revocations = new RevocationSet();
    expect(revocations.apply(set(SESSION_REVOKED, user('alice'), { tessera_valid_until: NOW - 61 }), NOW)).toEqual({ effect: 'expired' });
    expect(revocations.size).toBe(0);
  });

  it('a later expiry of the same entry extends it', () => {
    const revocations = new RevocationSet();
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque('sid-1') }, { tessera_valid_until: NOW + 100 }), NOW);
    revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque('sid-1') }, { tessera_valid_until: NOW + 500 }), NOW);
    expect(revocations.sweep(NOW + 200)).toBe(0);
    expect(revocations.matches(token({ sid: 'sid-1' }))).toBe(true);
    expect(revocations.size).toBe(1);
  });

  it('overflow: a revocation that does not fit is never silently forgotten; the set reports itself overflowed until it would have expired', () => {
    const revocations = new RevocationSet({ maxEntries: 2 });
    const jti = (id: string, validUntil: number) => set(TOKEN_REVOKED, { format: 'jwt_id', iss: ISS, jti: id }, { tessera_valid_until: validUntil });
    expect(revocations.apply(jti('a', NOW + 100), NOW)).toMatchObject({ effect: 'revoked' });
    expect(revocations.apply(jti('b', NOW + 1000), NOW)).toMatchObject({ effect: 'revoked' });
    expect(revocations.overflowed(NOW)).toBe(false);
    expect(revocations.apply(jti('c', NOW + 500), NOW)).toEqual({ effect: 'overflowed', expiresAt: NOW + 560 });
    expect(revocations.overflowed(NOW)).toBe(true);
    expect(revocations.overflowUntil).toBe(NOW + 560);
    expect(revocations.size).toBe(2);
    // Known entries still grow without needing room.
    expect(revocations.apply(jti('b', NOW + 2000), NOW)).toMatchObject({ effect: 'revoked' });
    // Once 'a' expires, inserting sweeps it and makes room.
    expect(revocations.apply(jti('d', NOW + 300), NOW + 161)).toMatchObject({ effect: 'revoked' });
    expect(revocations.size).toBe(2);
    expect(revocations.matches(token({ jti: 'a' }))).toBe(false);
    expect(revocations.matches(token({ jti: 'd' }))).toBe(true);
    // Still overflowed: 'c' was left out and may still matter until it would have expired.
    expect(revocations.overflowed(NOW + 560)).toBe(true);
    expect(revocations.overflowed(NOW + 561)).toBe(false);
  });

  it('the sliced sweeper drops the same entries as a full sweep, a slice at a time', () => {
    const revocations = new RevocationSet();
    for (let i = 0; i < 50; i++) {
      const validUntil = { tessera_valid_until: i % 2 === 0 ? NOW + 10 : NOW + 1000 };
      revocations.apply(set(TOKEN_REVOKED, { format: 'jwt_id', iss: ISS, jti: `j${i}` }, validUntil), NOW);
      revocations.apply(set(SESSION_REVOKED, { format: 'complex', session: opaque(`s${i}`) }, validUntil), NOW);
      revocations.apply(set(SESSION_REVOKED, user(`u${i}`), validUntil), NOW);
      revocations.apply(set(SESSION_REVOKED, { format: 'complex', user: user(`u${i}`), application: opaque('app') }, validUntil), NOW);
      revocations.apply(set(SESSION_REVOKED, { format: 'complex', application: opaque(`c${i}`) }, validUntil), NOW);
    }
    expect(revocations.size).toBe(250);
    const steps = revocations.sweeper(NOW + 100, 10);
    let slices = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) slices++;
    expect(step.value).toBe(125);
    expect(slices).toBeGreaterThanOrEqual(20);
    expect(revocations.size).toBe(125);
    expect(revocations.matches(token({ jti: 'j0' }))).toBe(false);
    expect(revocations.matches(token({ jti: 'j1' }))).toBe(true);
    expect(revocations.matches(token({ sid: 's1', jti: 'x' }))).toBe(true);
    expect(revocations.matches(token({ sid: 's2', jti: 'x' }))).toBe(false);
  });

  it('rejects nonsensical bounds', () => {
    expect(() => new RevocationSet({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => new RevocationSet({ maxTokenLifetimeSeconds: -1 })).toThrow(TypeError);
  });
});

describe('verifySet', () => {
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;
  let publicKey: CryptoKey;
  const audience = 'resource-api';

  beforeAll(async () => {
    ({ privateKey, publicKey } = await generateKeyPair('RS256'));
    ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  });

  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: ISS,
    aud: audience,
    iat: NOW,
    jti: 'set-1',
    txn: 'txn-1',
    sub_id: user('alice'),
    events: { [SESSION_REVOKED]: { event_timestamp: NOW } },
    ...extra,
  });
  const sign = (payload: JWTPayload = claims(), header: Record<string, unknown> = {}, key: CryptoKey | Uint8Array = privateKey) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', ...header } as { alg: string }).sign(key);
  const refusal = async (jws: Promise<string>, key: Parameters<typeof verifySet>[1]['key'] = publicKey) => {
    const error = await verifySet(await jws, { issuer: ISS, audience, key }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SetVerificationError);
    return error as SetVerificationError;
  };

  it('accepts a well-formed SET without exp; typ may carry the application/ prefix; aud may be an array', async () => {
    const verified = await verifySet(await sign(), { issuer: ISS, audience, key: publicKey });
    expect(verified).toMatchObject({ jti: 'set-1', sub_id: user('alice') });
    await expect(verifySet(await sign(claims(), { typ: 'application/secevent+jwt' }), { issuer: ISS, audience, key: publicKey })).resolves.toBeTruthy();
    await expect(verifySet(await sign(claims({ aud: ['other', audience] })), { issuer: ISS, audience, key: publicKey })).resolves.toBeTruthy();
  });

  it('refuses a wrong typ, issuer, audience, algorithm or signature with the RFC 8935 error codes', async () => {
    expect((await refusal(sign(claims(), { typ: 'JWT' }))).err).toBe('invalid_request');
    expect((await refusal(sign(claims(), { typ: undefined }))).err).toBe('invalid_request');
    expect((await refusal(sign(claims({ iss: 'https://evil.test' })))).err).toBe('invalid_issuer');
    expect((await refusal(sign(claims({ aud: 'someone-else' })))).err).toBe('invalid_audience');
    expect((await refusal(sign(claims({ aud: undefined })))).err).toBe('invalid_audience');
    expect((await refusal(sign(claims(), {}, otherKey))).err).toBe('invalid_key');
    const secret = new Uint8Array(32).fill(7);
    expect((await refusal(sign(claims(), { alg: 'HS256' }, secret), secret)).err).toBe('invalid_key');
    const ec = await generateKeyPair('ES256');
    expect((await refusal(sign(claims(), { alg: 'ES256' }, ec.privateKey), ec.publicKey)).err).toBe('invalid_key');
  });

  it('refuses SETs without jti, iat or exactly one event object, and garbage', async () => {
    expect((await refusal(sign(claims({ jti: undefined })))).err).toBe('invalid_request');
    expect((await refusal(sign(claims({ iat: undefined })))).err).toBe('invalid_request');
    expect((await refusal(sign(claims({ events: undefined })))).err).toBe('invalid_request');
    expect((await refusal(sign(claims({ events: {} })))).err).toBe('invalid_request');
    expect((await refusal(sign(claims({ events: { [SESSION_REVOKED]: {}, [TOKEN_REVOKED]: {} } })))).err).toBe('invalid_request');
    expect((await refusal(sign(claims({ events: { [SESSION_REVOKED]: 'revoked' } })))).err).toBe('invalid_request');
    expect((await refusal(Promise.resolve('not.a.jws'))).err).toBe('invalid_request');
    expect((await refusal(Promise.resolve(''))).err).toBe('invalid_request');
  });

  it('an unknown kid is a retryable invalid_key; a key set that cannot be read is not a refusal at all', async () => {
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
    await expect(verifySet(await sign(claims(), { kid: 'k1' }), { issuer: ISS, audience, key: jwks })).resolves.toBeTruthy();
    const unknown = await refusal(sign(claims(), { kid: 'k2' }), jwks);
    expect(unknown).toMatchObject({ err: 'invalid_key', retryable: true });
    const unreachable = new Error('fetch failed');
    await expect(verifySet(await sign(), { issuer: ISS, audience, key: async () => Promise.reject(unreachable) })).rejects.toBe(unreachable);
  });
});

describe('createRevocationFeed before it is ready (Tessera unreachable)', () => {
  // Port 9 (discard) on the loopback: nothing listens, connections are refused at once.
  const unreachable = 'http://127.0.0.1:9';
  const quiet = { info() {}, warn() {}, error() {} };
  const feeds: RevocationFeed[] = [];
  const open = (options: Partial<Parameters<typeof createRevocationFeed>[0]> = {}) => {
    const feed = createRevocationFeed({ issuer: unreachable, clientId: 'api', clientSecret: 'secret', logger: quiet, ...options });
    feeds.push(feed);
    return feed;
  };
  const jwt = { header: { alg: 'RS256' }, payload: token({}) };
  const thrownBy = (call: () => unknown): unknown => {
    try {
      call();
    } catch (err) {
      return err;
    }
    return undefined;
  };

  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((feed) => feed.close()));
  });

  it('throws the 503 stale error from revoked() and from an unbound isRevoked()', () => {
    const feed = open();
    const { isRevoked, revoked } = feed;
    for (const call of [() => revoked(token({})), () => isRevoked({}, jwt), () => isRevoked({}, { header: {}, payload: 'not json' })]) {
      const thrown = thrownBy(call);
      expect(thrown).toBeInstanceOf(RevocationFeedStaleError);
      expect(thrown).toMatchObject({ status: 503, code: 'revocation_feed_stale', reason: 'not_ready' });
    }
    expect(feed.health()).toMatchObject({ healthy: false, reason: 'not_ready', ready: false, entries: 0 });
  });

  it('failOpen: true answers false instead', () => {
    const { isRevoked, revoked } = open({ failOpen: true });
    expect(revoked(token({}))).toBe(false);
    expect(isRevoked({}, jwt)).toBe(false);
  });

  it('the Koa middleware answers 503 without calling next, and passes requests without a user through', async () => {
    const feed = open();
    const middleware = feed.koa();
    const headers: Record<string, string> = {};
    const ctx: KoaContextLike = { state: { user: token({}) }, status: 404, body: undefined, set: (field, value) => void (headers[field] = value) };
    let called = 0;
    await middleware(ctx, async () => void called++);
    expect(ctx.status).toBe(503);
    expect(ctx.body).toMatchObject({ error: 'revocation_feed_stale' });
    expect(headers['Retry-After']).toBe('5');
    expect(called).toBe(0);
    await middleware({ ...ctx, state: {} }, async () => void called++);
    expect(called).toBe(1);
  });

  it('ready() rejects with the reason when Tessera cannot be reached in time; the feed keeps trying until closed', async () => {
    const feed = open({ readyTimeoutSeconds: 0.3 });
    await expect(feed.ready()).rejects.toThrow(/not caught up with Tessera within 0.3 s/);
    expect(feed.health().reason).toBe('not_ready');
    await feed.close();
    expect(thrownBy(() => feed.revoked(token({})))).toMatchObject({ reason: 'closed', status: 503, code: 'revocation_feed_stale' });
  });

  it('close() before ready rejects ready() and ends promptly', async () => {
    const feed = open();
    const started = Date.now();
    await feed.close();
    await expect(feed.ready()).rejects.toThrow(/closed/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('requires issuer, clientId and clientSecret', () => {
    expect(() => createRevocationFeed({ issuer: unreachable, clientId: '', clientSecret: 'x' })).toThrow(/clientId/);
    expect(() => createRevocationFeed({ issuer: 'not a url', clientId: 'a', clientSecret: 'x' })).toThrow(/issuer/);
  });
});
