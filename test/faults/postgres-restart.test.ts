import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Browser } from '../support/browser.js';
import { testDatabaseKind } from '../support/database.js';
import { discover, introspect, login, logout, seed, type Fixture } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * Fault injection: the database goes away under a running Tessera. Introspection must fail
 * closed (never `active: true` for a revoked token, errors as 5xx JSON, no crash) and recover
 * by itself once PostgreSQL is back. Runs only through vitest.faults.config.ts (after the
 * normal PostgreSQL pass of scripts/test-postgresql.mjs): it restarts the local cluster.
 */
const run = promisify(execFile);
const PG_CTL = ['--skip-systemctl-redirect', '15', 'main'];
const pgctl = async (action: 'restart' | 'stop' | 'start'): Promise<void> => {
  await run('pg_ctlcluster', [...PG_CTL, action], { timeout: 60_000 });
};

/** Starts the cluster if it is down (after a failed restart, say): other suites share it. */
const ensureRunning = async (): Promise<void> => {
  try {
    await run('pg_ctlcluster', [...PG_CTL, 'status'], { timeout: 30_000 });
  } catch {
    await pgctl('start');
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  token: string;
  revoked: boolean;
  /** ms since the load started */
  at: number;
  ms: number;
  status?: number;
  body?: unknown;
  contentType?: string | null;
  /** fetch itself failed (connection refused or reset, timeout) */
  failure?: string;
}

describe.runIf(testDatabaseKind === 'postgresql')('PostgreSQL goes away under a running Tessera', () => {
  let server: TestServer;
  let f: Fixture;
  let live: string[];
  let revoked: string[];

  const rsAuth = () => `Basic ${Buffer.from(`${encodeURIComponent(f.rs.clientId)}:${encodeURIComponent(f.rs.clientSecret)}`).toString('base64')}`;

  async function sample(token: string, isRevoked: boolean, start: number): Promise<Sample> {
    const t0 = Date.now();
    const s: Sample = { token, revoked: isRevoked, at: t0 - start, ms: 0 };
    try {
      const res = await fetch(`${server.issuer}/token/introspection`, {
        method: 'POST',
        headers: { authorization: rsAuth(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        signal: AbortSignal.timeout(20_000),
      });
      s.status = res.status;
      s.contentType = res.headers.get('content-type');
      const text = await res.text();
      try {
        s.body = JSON.parse(text);
      } catch {
        s.body = text.slice(0, 200);
      }
    } catch (err) {
      s.failure = (err as Error).message;
    }
    s.ms = Date.now() - t0;
    return s;
  }

  async function statusOf(path: string): Promise<number> {
    const res = await fetch(`${server.issuer}${path}`, { signal: AbortSignal.timeout(20_000) });
    await res.arrayBuffer();
    return res.status;
  }

  /** Polls until every live token introspects active again (bounded); the last answers otherwise. */
  async function untilLiveActive(timeoutMs: number): Promise<Sample[]> {
    const deadline = Date.now() + timeoutMs;
    let last: Sample[] = [];
    for (;;) {
      last = await Promise.all(live.map((t) => sample(t, false, Date.now())));
      if (last.every((s) => s.status === 200 && (s.body as { active?: unknown }).active === true)) return last;
      if (Date.now() > deadline) return last;
      await sleep(250);
    }
  }

  /** The server process is still the one we started: same port, still answering. */
  async function expectServerAlive(): Promise<void> {
    expect(await statusOf('/healthz')).toBe(200);
    expect(server.output()).not.toMatch(/failed to start|uncaught|unhandled/i);
  }

  beforeAll(async () => {
    server = await startServer({ DATABASE_POOL_SIZE: '4', DATABASE_CONNECT_TIMEOUT: '2' });
    f = await seed(server);
    const config = await discover(server, f.web);

    const liveBrowser = new Browser();
    const a = await login(config, liveBrowser, f, { scope: 'openid email offline_access' });
    const aJwt = await login(config, liveBrowser, f, { scope: 'openid read', resource: f.jwtApi });
    const aOpaque = await login(config, liveBrowser, f, { scope: 'openid read', resource: f.opaqueApi });
    live = [a.access_token, a.refresh_token!, aJwt.access_token, aJwt.refresh_token!, aOpaque.access_token];

    const goneBrowser = new Browser();
    const b = await login(config, goneBrowser, f, { scope: 'openid email offline_access' });
    const bJwt = await login(config, goneBrowser, f, { scope: 'openid read', resource: f.jwtApi });
    const bOpaque = await login(config, goneBrowser, f, { scope: 'openid read', resource: f.opaqueApi });
    revoked = [b.access_token, b.refresh_token!, bJwt.access_token, bJwt.refresh_token!, bOpaque.access_token];
    for (const t of live) expect(await introspect(server, f.rs, t)).toMatchObject({ active: true });
    for (const t of revoked) expect(await introspect(server, f.rs, t)).toMatchObject({ active: true });
    expect((await logout(config, goneBrowser, { idToken: b.id_token })).status).toBe(303);
    for (const t of revoked) expect(await introspect(server, f.rs, t)).toEqual({ active: false });
  });

  afterAll(async () => {
    await ensureRunning();
    await server?.cleanup();
  });

  it('introspection under load fails closed while PostgreSQL restarts, and recovers without restarting Tessera', async () => {
    const mix = [...live.map((t) => ({ t, r: false })), ...revoked.map((t) => ({ t, r: true }))];
    const samples: Sample[] = [];
    const start = Date.now();
    const LOAD_MS = 18_000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (Date.now() - start < LOAD_MS) {
        const pick = mix[next++ % mix.length]!;
        samples.push(await sample(pick.t, pick.r, start));
      }
    };
    const restart = (async () => {
      await sleep(3_000);
      const t0 = Date.now() - start;
      try {
        await pgctl('restart');
      } finally {
        await ensureRunning();
      }
      return { from: t0, to: Date.now() - start };
    })();
    const [window] = await Promise.all([restart, ...Array.from({ length: 10 }, worker)]);

    const ok = samples.filter((s) => s.status === 200);
    const errors = samples.filter((s) => s.status !== undefined && s.status !== 200);
    const failures = samples.filter((s) => s.failure);
    const liveInactive = ok.filter((s) => !s.revoked && (s.body as { active?: unknown }).active !== true);
    const summary = {
      restart: window,
      requests: samples.length,
      ok: ok.length,
      errors: errors.length,
      statuses: [...new Set(errors.map((s) => s.status))],
      failures: failures.length,
      liveAnsweredInactive: liveInactive.length,
      slowestMs: Math.max(...samples.map((s) => s.ms)),
      // What the server logged for its 5xx answers (error messages only).
      causes: [...new Set([...server.output().matchAll(/"msg":"request failed"|"message":"([^"]{0,80})/g)].map((m) => m[1]).filter(Boolean))].slice(0, 8),
    };
    console.info('[faults] restart under load:', JSON.stringify(summary));

    // Never active for a revoked token, whatever the database did.
    const leaked = samples.filter((s) => s.revoked && (s.body as { active?: unknown } | undefined)?.active === true);
    expect(leaked, 'revoked token answered active:true').toEqual([]);
    // A live token is never called inactive because the database was away: that is a 5xx too.
    expect(liveInactive, JSON.stringify(liveInactive.slice(0, 3))).toEqual([]);
    // Errors are 5xx JSON server_error (or 503), never an HTML page or a 4xx.
    for (const s of errors) {
      expect(s.status, JSON.stringify(s)).toBeGreaterThanOrEqual(500);
      expect(s.contentType, JSON.stringify(s)).toMatch(/application\/json/);
      const e = (s.body as { error?: string }).error;
      expect(s.status === 503 || e === 'server_error', JSON.stringify(s)).toBe(true);
    }
    // Every request got an HTTP answer: the process never went away, nothing hung.
    expect(failures, JSON.stringify(failures.slice(0, 3))).toEqual([]);
    expect(samples.length).toBeGreaterThan(100);
    // The load did hit the database before the restart (sanity of the scenario).
    expect(samples.filter((s) => s.at < window.from && s.status === 200).length).toBeGreaterThan(10);

    await expectServerAlive();
    const after = await untilLiveActive(30_000);
    expect(after.map((s) => (s.body as { active?: unknown } | undefined)?.active), JSON.stringify(after)).toEqual(live.map(() => true));
    for (const t of revoked) expect(await introspect(server, f.rs, t)).toEqual({ active: false });
    expect(await statusOf('/readyz')).toBe(200);
  });

  it('PostgreSQL stopped: /readyz 503, introspection 5xx (never active), /healthz 200; back to ready once it starts', async () => {
    try {
      await pgctl('stop');
      expect(await statusOf('/readyz')).toBe(503);
      for (const token of [...live, ...revoked]) {
        const s = await sample(token, revoked.includes(token), Date.now());
        expect(s.failure, JSON.stringify(s)).toBeUndefined();
        expect((s.body as { active?: unknown } | undefined)?.active, JSON.stringify(s)).not.toBe(true);
        expect(s.status, JSON.stringify(s)).toBeGreaterThanOrEqual(500);
        expect(s.contentType, JSON.stringify(s)).toMatch(/application\/json/);
        expect((s.body as { error?: string }).error === 'server_error' || s.status === 503, JSON.stringify(s)).toBe(true);
      }
      expect(await statusOf('/healthz')).toBe(200);
    } finally {
      // Whatever happened above, PostgreSQL must come back (other suites share it).
      await pgctl('start');
    }
    const deadline = Date.now() + 30_000;
    let ready = await statusOf('/readyz');
    while (ready !== 200 && Date.now() < deadline) {
      await sleep(250);
      ready = await statusOf('/readyz');
    }
    expect(ready).toBe(200);
    await expectServerAlive();
    const after = await untilLiveActive(30_000);
    expect(after.map((s) => (s.body as { active?: unknown } | undefined)?.active), JSON.stringify(after)).toEqual(live.map(() => true));
    for (const t of revoked) expect(await introspect(server, f.rs, t)).toEqual({ active: false });
  });
});
