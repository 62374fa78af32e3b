import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { createWebClient, loginWith, refreshWith } from '../support/flows.js';
import { discover, introspect, logout, seed, userinfoStatus, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { createPollStream, newReceiver, poll, SESSION_REVOKED } from '../support/ssf.js';

/**
 * LOGOUT_REVOKES_OFFLINE: whether logout also revokes offline_access grants (default true).
 * offline_access is only honoured with prompt=consent (OIDC Core §11, oidc-provider checkScope).
 */
describe('offline_access and logout: the LOGOUT_REVOKES_OFFLINE policy', () => {
  let strict: TestServer;
  let lenient: TestServer;
  let fs: Fixture;
  let fl: Fixture;
  let lenientSecond: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    [strict, lenient] = await Promise.all([startServer(), startServer({ LOGOUT_REVOKES_OFFLINE: 'false' })]);
    [fs, fl] = await Promise.all([seed(strict), seed(lenient)]);
    lenientSecond = await createWebClient(lenient, 'Session App');
  });
  afterAll(async () => {
    await Promise.all([strict?.cleanup(), lenient?.cleanup()]);
  });

  it('default policy: logout revokes an offline_access grant too', async () => {
    const config = await discover(strict, fs.web);
    const browser = new Browser();
    const t = await loginWith(config, browser, fs, { scope: 'openid offline_access', prompt: 'consent' });
    expect(t.scope?.split(' ')).toContain('offline_access');
    expect(t.refresh_token).toBeTruthy();
    const rt = await introspect(strict, fs.rs, t.refresh_token!);
    expect(rt).toMatchObject({ active: true });
    expect(String(rt.scope).split(' ')).toContain('offline_access');

    const out = await logout(config, browser, { idToken: t.id_token });
    expect(out.status).toBe(303);

    expect((await refreshWith(config, t.refresh_token!)).error).toBe('invalid_grant');
    expect(await introspect(strict, fs.rs, t.refresh_token!)).toEqual({ active: false });
    expect(await introspect(strict, fs.rs, t.access_token)).toEqual({ active: false });
    expect(await userinfoStatus(strict, t.access_token)).toBe(401);
  });

  it('LOGOUT_REVOKES_OFFLINE=false: the offline_access refresh token survives logout, the session-bound one does not', async () => {
    const offlineConfig = await discover(lenient, fl.web);
    const sessionConfig = await discover(lenient, lenientSecond);
    const browser = new Browser();
    // One browser session, two clients (oidc-provider keeps one grant per client per session).
    const offline = await loginWith(offlineConfig, browser, fl, { scope: 'openid offline_access', prompt: 'consent' });
    expect(offline.scope?.split(' ')).toContain('offline_access');
    const bound = await loginWith(sessionConfig, browser, fl, { scope: 'openid' });
    expect(bound.scope?.split(' ')).not.toContain('offline_access');
    expect(bound.refresh_token).toBeTruthy();
    expect(await introspect(lenient, fl.rs, bound.refresh_token!)).toMatchObject({ active: true });
    expect(await introspect(lenient, fl.rs, offline.refresh_token!)).toMatchObject({ active: true });
    const receiver = await newReceiver(lenient);
    const { pollUrl } = await createPollStream(lenient, receiver, { events_requested: [SESSION_REVOKED] });

    const out = await logout(offlineConfig, browser, { idToken: offline.id_token });
    expect(out.status).toBe(303);

    // The revocation feed announces the grant that ended, not the offline one that was kept
    // (whose client still gets its back-channel logout).
    const announced = await poll(lenient, receiver, pollUrl, { returnImmediately: true, maxEvents: 100 });
    const events = Object.values(announced.sets).map((set) => JSON.parse(Buffer.from(set.split('.')[1]!, 'base64url').toString()) as Record<string, any>);
    expect(events).toHaveLength(1);
    expect(events[0]!.sub_id).toMatchObject({ format: 'complex', user: { sub: fl.userId }, session: { format: 'opaque' } });

    // The offline grant persists logout: its refresh token works and rotates.
    const r = await refreshWith(offlineConfig, offline.refresh_token!);
    expect(r.error).toBeUndefined();
    expect(r.tokens?.refresh_token).toBeTruthy();
    expect(r.tokens!.refresh_token).not.toBe(offline.refresh_token);
    expect(await introspect(lenient, fl.rs, r.tokens!.refresh_token!)).toMatchObject({ active: true });
    expect(await introspect(lenient, fl.rs, r.tokens!.access_token)).toMatchObject({ active: true });
    expect(await userinfoStatus(lenient, r.tokens!.access_token)).toBe(200);

    // The session-bound grant of the same browser session is dead.
    expect((await refreshWith(sessionConfig, bound.refresh_token!)).error).toBe('invalid_grant');
    expect(await introspect(lenient, fl.rs, bound.refresh_token!)).toEqual({ active: false });
    expect(await introspect(lenient, fl.rs, bound.access_token)).toEqual({ active: false });
    expect(await userinfoStatus(lenient, bound.access_token)).toBe(401);
  });
});
