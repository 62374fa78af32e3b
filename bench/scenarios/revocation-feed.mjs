// The revocation feed (docs/revocation-feed.md, @tessera/resource-server), measured against the
// running Tessera of one database. Measurements, not pass/fail tests; the targets are reported.
//
// 1. logout with 100 streams: the logout measurement of bench/scenarios/logout.mjs (a session
//    with 10 grants; ms from POST /logout/confirm to its 303; every token inactive afterwards),
//    with no SSF stream and with 100 poll streams of 100 receivers (one stream each, as 100 APIs
//    would hold), interleaved rep by rep after one logout not counted; the streams are created
//    before and removed after each rep. Each logout then queues 10 entries × 100 streams = 1,000
//    deliveries in its transaction. Nobody polls those streams during the measurement: SETs are
//    signed when polled, after the 303, so the logout's own cost is the fan-out. Median of each
//    (BENCH_LOGOUT_REPS), and their ratio.
// 2. propagation: an API (bench/lib/feed-api.mjs: express 5 + express-jwt 8 + jwks-rsa 4 with
//    `isRevoked: feed.isRevoked`, a child process) serves a steady load (bench/lib/feed-load.mjs,
//    autocannon in another child, the token of a user who stays signed in) while the driver does
//    BENCH_FEED_LOGOUTS logouts: a seeded user signs in with resource=https://jwt.bench (ES256
//    JWT access token), the API answers 200 for the token, the user signs out, and the driver
//    calls the API with the token in a tight loop until it answers 401. Propagation: ms from the
//    logout response's arrival to the first 401's. Sessions are prepared in batches (sign-ins
//    concurrent, BENCH_LOGIN_CONCURRENCY), but each logout and its polling run alone. Bounded by
//    BENCH_FEED_MAX_SECONDS. Target: p99 < 100 ms.
// 3. hot path and memory (bench/lib/feed-hotpath.mjs, a child with --expose-gc): jwtVerify alone
//    vs jwtVerify + feed.revoked(payload) on a real feed that caught up with the stream (every
//    revocation in the window, the propagation's included), operations alternating one by one
//    for BENCH_FEED_HOTPATH_SECONDS; heap per entry of a RevocationSet holding BENCH_FEED_ENTRIES
//    (100,000) entries. Target: ratio ≥ 0.9×.
// Every child process is stopped when the group ends, however it ends.
import { fork } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';

import { Browser, codeFlow, logoutTimed } from '../lib/flow.mjs';
import { basic, median, post } from '../lib/load.mjs';
import { freePort, root, startProcess, tessera } from '../lib/processes.mjs';
import { openWriter } from '../lib/seed.mjs';
import { LOGIN_CONCURRENCY } from './login.mjs';
import { LOGOUT_REPETITIONS } from './logout.mjs';

export const FEED_SETTINGS = {
  logouts: Number(process.env.BENCH_FEED_LOGOUTS ?? 1000),
  maxSeconds: Number(process.env.BENCH_FEED_MAX_SECONDS ?? 300),
  batch: Number(process.env.BENCH_FEED_BATCH ?? 16),
  loadRate: Number(process.env.BENCH_FEED_LOAD_RATE ?? 200),
  loadConnections: Number(process.env.BENCH_FEED_LOAD_CONNECTIONS ?? 10),
  revokedWithinMs: 10_000,
  entries: Number(process.env.BENCH_FEED_ENTRIES ?? 100_000),
  hotPathSeconds: Number(process.env.BENCH_FEED_HOTPATH_SECONDS ?? 20),
  streams: Number(process.env.BENCH_FEED_STREAMS ?? 100),
  logoutGrants: 10,
  logoutRepetitions: LOGOUT_REPETITIONS,
  loginConcurrency: LOGIN_CONCURRENCY,
};

export const FEED_SCENARIOS = {
  logout: 'revocation feed: logout with 100 streams',
  propagation: 'revocation feed: propagation (logout → 401)',
  hotPath: 'revocation feed: hot path (jwtVerify + revoked)',
  memory: 'revocation feed: memory (100k entries)',
};

const RESOURCE = 'https://jwt.bench'; // the JWT API of bench/scenarios/tessera-setup.mjs (ES256, 300 s)
const SCOPE = 'openid read';
const RECEIVER_SCOPE = 'ssf.manage ssf.read';
const POLL = 'urn:ietf:rfc:8936';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
const round = (v, digits = 1) => (v === null || v === undefined ? null : Number(v.toFixed(digits)));

/** Rejects when `promise` takes longer than `ms`. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms)))])
    .finally(() => clearTimeout(timer));
}

/** `fn(i)` for i in [0, n), at most `concurrency` at a time. */
async function pool(n, concurrency, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) {
      const i = next;
      next += 1;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/** A forked child with an IPC channel; `result` settles with its {type: 'result'} message. */
function forkChild(script, env, execArgv = []) {
  const child = fork(script, [], { env: { PATH: process.env.PATH, ...env }, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const result = new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m?.type === 'result') resolve(m);
      else if (m?.type === 'error') reject(new Error(`${script}: ${m.message}`));
    });
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before answering:\n${output.slice(-2000)}`)));
  });
  result.catch(() => undefined); // awaited by the caller when it wants the answer
  return {
    result,
    send: (m) => child.connected && child.send(m),
    output: () => output,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

/** GET /data on the API with a Bearer token: the status, and the hrtime at which the response arrived. */
function apiCaller(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const call = (token) => new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/data', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const at = process.hrtime.bigint();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, at }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('API call timed out')));
  });
  return { call, close: () => agent.destroy() };
}

export async function revocationFeedScenarios(ctx, kind, record, wanted, log) {
  const { server, seeded, password } = ctx;
  const users = seeded.users;
  const userAt = (i) => ({ email: users[i % users.length].email, password });
  const cleanup = [];
  const db = openWriter(kind, server.env.DATABASE_URL);
  const count = async (table) => Number((await db.read(`SELECT COUNT(*) AS n FROM "${table}"`))[0].n);

  // The receiver of the API's feed (and of the hot path's): a client with the SSF scopes.
  const created = tessera(server, ['client', 'create'], JSON.stringify({
    client_name: 'bench feed receiver', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: RECEIVER_SCOPE,
  }));
  const receiver = { clientId: created.client_id, clientSecret: created.client_secret };

  /** A fresh JWT access token for the API (a new browser session of `user`). */
  const signIn = async (user) => {
    const browser = new Browser();
    const { tokens } = await codeFlow(server.url, browser, ctx.appClient, user, { scope: SCOPE, resource: RESOURCE });
    if (typeof tokens.access_token !== 'string' || tokens.access_token.split('.').length !== 3) throw new Error('the access token for the JWT API is not a JWT');
    return { browser, token: tokens.access_token };
  };

  try {
    if (wanted(FEED_SCENARIOS.logout)) await logoutWithStreams();
    let revokedToken;
    if (wanted(FEED_SCENARIOS.propagation)) revokedToken = await propagation();
    if (wanted(FEED_SCENARIOS.hotPath) || wanted(FEED_SCENARIOS.memory)) await hotPathAndMemory(revokedToken);
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch((err) => log(`revocation feed clean-up: ${err.message}`));
    await db.close();
  }

  // ---- 4. logout with and without 100 streams -------------------------------------------------
  async function logoutWithStreams() {
    const n = FEED_SETTINGS.streams;
    const grants = FEED_SETTINGS.logoutGrants;
    const clients = [ctx.appClient, ...seeded.logoutClients.map((id) => ctx.client(id))];
    if (clients.length < grants) throw new Error(`need ${grants} clients, seeded ${clients.length}`);

    // n receivers: the CLI's, copied in SQL (same metadata, same secret hash) as the seeder does.
    const [row] = await db.read('SELECT metadata, "secretHash" FROM "Client" WHERE "clientId" = $1', [receiver.clientId]);
    const metadata = JSON.parse(row.metadata);
    const now = new Date();
    const tag = Date.now().toString(36); // unique again if the group is measured again after a restart
    const copies = Array.from({ length: n - 1 }, (_, i) => `bench-receiver-${tag}-${i + 2}`);
    await db.insert('Client', ['clientId', 'metadata', 'secretHash', 'disabled', 'createdAt', 'updatedAt'],
      copies.map((id) => [id, JSON.stringify({ ...metadata, client_name: id }), row.secretHash, false, now, now]));
    const receivers = [receiver.clientId, ...copies].map((clientId) => ({ clientId, auth: basic(clientId, receiver.clientSecret) }));

    const tokenOf = async (r) => {
      if (r.token && Date.now() - r.tokenAt < 120_000) return r.token;
      // Clients written in SQL reach the server's client cache within CLIENT_CACHE_MS.
      for (let attempt = 0; ; attempt += 1) {
        try {
          r.token = (await post(`${server.url}/token`, { grant_type: 'client_credentials', scope: RECEIVER_SCOPE }, r.auth)).access_token;
          r.tokenAt = Date.now();
          return r.token;
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(250);
        }
      }
    };
    const ssf = async (r, method, path, body) => {
      const res = await fetch(new URL(path, server.url), {
        method,
        headers: { authorization: `Bearer ${await tokenOf(r)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    let open = [];
    const createStreams = async () => {
      open = await pool(n, 4, async (i) => {
        const res = await ssf(receivers[i], 'POST', '/ssf/streams', { delivery: { method: POLL }, description: `bench stream ${i + 1}` });
        if (res.status !== 201) throw new Error(`stream creation answered ${res.status}: ${JSON.stringify(res.body)}`);
        return { r: receivers[i], id: res.body.stream_id };
      });
    };
    const removeStreams = async () => {
      const streams = open;
      open = [];
      await pool(streams.length, 4, async (i) => {
        const res = await ssf(streams[i].r, 'DELETE', `/ssf/streams?stream_id=${encodeURIComponent(streams[i].id)}`);
        if (res.status !== 204) throw new Error(`stream removal answered ${res.status}`);
      });
    };
    cleanup.push(removeStreams);

    const sides = { none: [], streams: [] };
    const extra = { none: { checked: 0, stillActive: 0, deliveries: [], streamCount: [] }, streams: { checked: 0, stillActive: 0, deliveries: [], streamCount: [], backlogPerStream: [] } };
    let nextUser = 100;
    /** As bench/scenarios/logout.mjs: one password sign-in, then consent only for the other clients; the logout's ms. */
    const oneLogout = async (tally) => {
      const user = userAt(nextUser);
      nextUser += 1;
      const browser = new Browser();
      const tokens = [];
      let passwordPages = 0;
      for (const client of clients.slice(0, grants)) {
        const r = await codeFlow(server.url, browser, client, user);
        passwordPages += r.passwordPages;
        tokens.push(r.tokens.access_token, r.tokens.refresh_token);
      }
      if (passwordPages !== 1) throw new Error(`logout set-up: expected one password sign-in, saw ${passwordPages}`);
      const before = await post(`${server.url}/token/introspection`, { token: tokens[tokens.length - 1], token_type_hint: 'refresh_token' }, ctx.rsAuth);
      if (before.active !== true) throw new Error('logout set-up: a token of the session is not active before logout');
      const deliveriesBefore = await count('SsfDelivery');
      const { ms } = await logoutTimed(server.url, browser, clients[0].clientId);
      tally.deliveries.push((await count('SsfDelivery')) - deliveriesBefore);
      for (const token of tokens) {
        const status = await post(`${server.url}/token/introspection`, { token }, ctx.rsAuth);
        tally.checked += 1;
        if (status.active !== false) tally.stillActive += 1;
      }
      return ms;
    };
    // One logout first, not counted: the first logout of a server is slower (cold paths), which
    // would land on whichever side came first.
    await oneLogout({ checked: 0, stillActive: 0, deliveries: [] });
    for (let rep = 0; rep < FEED_SETTINGS.logoutRepetitions; rep += 1) {
      for (const side of rep % 2 === 0 ? ['none', 'streams'] : ['streams', 'none']) {
        if (side === 'streams') {
          await createStreams();
          extra.streams.backlogPerStream.push(Math.round((await count('SsfDelivery')) / n));
        }
        extra[side].streamCount.push(await count('SsfStream'));
        sides[side].push(await oneLogout(extra[side]));
        if (side === 'streams') await removeStreams();
      }
    }
    const none = round(median(sides.none));
    const withStreams = round(median(sides.streams));
    const ratio = round(withStreams / none, 2);
    record(FEED_SCENARIOS.logout, kind, null, {
      requestsPerSecond: null,
      p50ms: withStreams,
      p99ms: null,
      errors: extra.none.stillActive + extra.streams.stillActive,
      feed: 'logout',
      grantsPerSession: grants,
      streams: n,
      receivers: n,
      repetitions: FEED_SETTINGS.logoutRepetitions,
      medianMs: withStreams,
      maxMs: round(Math.max(...sides.streams)),
      noStreamsMedianMs: none,
      noStreamsMaxMs: round(Math.max(...sides.none)),
      ratioToNoStreams: ratio,
      timesMs: sides.streams.map((t) => round(t)),
      noStreamsTimesMs: sides.none.map((t) => round(t)),
      deliveriesQueuedPerLogout: extra.streams.deliveries,
      noStreamsDeliveriesQueuedPerLogout: extra.none.deliveries,
      streamsPresent: extra.streams.streamCount,
      noStreamsStreamsPresent: extra.none.streamCount,
      backlogPerNewStream: extra.streams.backlogPerStream,
      tokensChecked: extra.none.checked + extra.streams.checked,
      tokensStillActive: extra.none.stillActive + extra.streams.stillActive,
      summary: `median ${withStreams} ms with ${n} streams vs ${none} ms without = ${ratio}×`,
    });
  }

  // ---- 1. propagation ---------------------------------------------------------------------------
  async function propagation() {
    const s = FEED_SETTINGS;
    const started = performance.now();
    const deadline = started + s.maxSeconds * 1000;
    const port = await freePort();
    const api = await startProcess(join(root, 'bench/lib/feed-api.mjs'), {
      PORT: String(port),
      NODE_ENV: 'production',
      FEED_ISSUER: server.url,
      FEED_AUDIENCE: RESOURCE,
      FEED_CLIENT_ID: receiver.clientId,
      FEED_CLIENT_SECRET: receiver.clientSecret,
    }, 'feed api listening');
    cleanup.push(() => api.stop());
    const caller = apiCaller(port);
    cleanup.push(async () => caller.close());
    const stats = async () => (await fetch(`http://127.0.0.1:${port}/_bench/stats`)).json();

    // The load: a user who stays signed in (the last but one seeded user; the set-up samples the last).
    const loadUser = userAt(users.length - 2);
    let load = await signIn(loadUser);
    let loadTokenAt = performance.now();
    if ((await caller.call(load.token)).status !== 200) throw new Error('the API refused the load token');
    const loader = forkChild(join(root, 'bench/lib/feed-load.mjs'), {
      FEED_LOAD_URL: `http://127.0.0.1:${port}`,
      FEED_LOAD_TOKEN: load.token,
      FEED_LOAD_RATE: String(s.loadRate),
      FEED_LOAD_CONNECTIONS: String(s.loadConnections),
      FEED_LOAD_MAX_SECONDS: String(s.maxSeconds + 120),
    });
    cleanup.push(() => loader.stop());
    await sleep(1000); // the load is under way

    const times = [];
    const logoutMs = [];
    const lastCallMs = []; // the 401 call's own round trip: the resolution of each figure
    const other = {};
    let firstTry = 0;
    let notRevoked = 0;
    let notOkBefore = 0;
    let signInErrors = 0;
    let firstSignInError;
    let calls = 0;
    let done = 0;
    let nextUser = 1000;
    let lastToken;
    while (done < s.logouts && performance.now() < deadline) {
      // JWTs of jwt.bench live 300 s: the load gets a new one every 100 s.
      if (performance.now() - loadTokenAt > 100_000) {
        load = await signIn(loadUser);
        loadTokenAt = performance.now();
        loader.send({ type: 'token', token: load.token });
      }
      const sessions = (await pool(Math.min(s.batch, s.logouts - done), s.loginConcurrency, async () => {
        const user = userAt(nextUser);
        nextUser += 1;
        try {
          return await signIn(user);
        } catch (err) {
          signInErrors += 1;
          firstSignInError ??= err.message;
          return null;
        }
      })).filter(Boolean);
      if (signInErrors > 20 && signInErrors > done) throw new Error(`sign-ins keep failing: ${firstSignInError}`);
      for (const session of sessions) {
        if (performance.now() >= deadline) break;
        if ((await caller.call(session.token)).status !== 200) {
          notOkBefore += 1;
          continue;
        }
        const { ms, arrived } = await logoutTimed(server.url, session.browser, ctx.appClient.clientId);
        logoutMs.push(ms);
        let revokedAt;
        for (let tries = 1; ; tries += 1) {
          const sent = process.hrtime.bigint();
          const r = await caller.call(session.token);
          calls += 1;
          if (r.status === 401) {
            revokedAt = r.at;
            lastCallMs.push(Number(r.at - sent) / 1e6);
            if (tries === 1) firstTry += 1;
            break;
          }
          if (r.status !== 200) other[r.status] = (other[r.status] ?? 0) + 1;
          if (Number(r.at - arrived) / 1e6 > s.revokedWithinMs) break;
        }
        done += 1;
        if (revokedAt === undefined) notRevoked += 1;
        else times.push(Number(revokedAt - arrived) / 1e6);
        lastToken = session.token;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    loader.send({ type: 'stop' });
    const loadResult = await within(loader.result, 30_000, 'the load child');
    const apiStats = await stats();

    const sorted = [...times].sort((a, b) => a - b);
    const p50 = round(percentile(sorted, 50), 2);
    const p99 = round(percentile(sorted, 99), 2);
    const max = round(sorted[sorted.length - 1] ?? null, 2);
    const stopped = done < s.logouts;
    const { memory: apiMemory, ...apiRest } = apiStats;
    record(FEED_SCENARIOS.propagation, kind, null, {
      requestsPerSecond: null,
      p50ms: p50,
      p99ms: p99,
      errors: notRevoked + notOkBefore + loadResult.errors,
      feed: 'propagation',
      targetP99Ms: 100,
      logouts: done,
      logoutsWanted: s.logouts,
      stoppedByTimeLimit: stopped,
      seconds: round(seconds),
      maxMs: max,
      meanMs: round(times.reduce((a, b) => a + b, 0) / (times.length || 1), 2),
      p90ms: round(percentile(sorted, 90), 2),
      revokedAtFirstCall: firstTry,
      notRevokedWithinMs: { ms: s.revokedWithinMs, count: notRevoked },
      apiCallsWhilePolling: calls,
      revokingCallMedianMs: round(median(lastCallMs), 2),
      otherStatusesWhilePolling: other,
      notOkBeforeLogout: notOkBefore,
      signInErrors,
      firstSignInError,
      logoutConfirmMedianMs: round(median(logoutMs)),
      load: loadResult,
      api: { ...apiRest, heapUsedBytes: apiMemory?.heapUsed },
      timesMs: times.map((t) => round(t, 2)),
      summary: `p50 ${p50} ms, p99 ${p99} ms, max ${max} ms over ${done} logouts${stopped ? ` (stopped at ${s.maxSeconds} s)` : ''}; `
        + `${firstTry} already 401 at the first call; load ${loadResult.requestsPerSecond} req/s, ${loadResult.errors} errors`,
    });

    // The API's feed closes (and removes its stream) with the API.
    cleanup.pop();
    await loader.stop();
    cleanup.pop();
    caller.close();
    cleanup.pop();
    await api.stop();
    return lastToken;
  }

  // ---- 2 and 3. hot path and memory -----------------------------------------------------------
  async function hotPathAndMemory(revokedToken) {
    const s = FEED_SETTINGS;
    const { token } = await signIn(userAt(users.length - 3));
    const child = forkChild(join(root, 'bench/lib/feed-hotpath.mjs'), { NODE_ENV: 'production' }, ['--expose-gc']);
    cleanup.push(() => child.stop());
    child.send({
      issuer: server.url,
      audience: RESOURCE,
      clientId: receiver.clientId,
      clientSecret: receiver.clientSecret,
      token,
      revokedToken,
      entries: s.entries,
      seconds: s.hotPathSeconds,
    });
    const budget = 180_000 + s.hotPathSeconds * 1000 * 2;
    const result = await within(child.result, budget, 'the hot path child');
    const h = result.hotPath;
    if (wanted(FEED_SCENARIOS.hotPath)) {
      record(FEED_SCENARIOS.hotPath, kind, null, {
        requestsPerSecond: null,
        p50ms: null,
        p99ms: null,
        errors: 0,
        feed: 'hotPath',
        targetRatio: 0.9,
        ...h,
        summary: `jwtVerify ${h.verifyOpsPerSecond} ops/s, + feed.revoked ${h.verifyAndFeedOpsPerSecond} ops/s = ${h.ratio}× `
          + `(feed of ${h.feedEntries} entries); + matches on ${s.entries} entries ${h.ratioWith100kSet}×; control (jwtVerify again) ${h.controlRatio}×`,
      });
    }
    if (wanted(FEED_SCENARIOS.memory)) {
      const m = result.memory;
      record(FEED_SCENARIOS.memory, kind, null, {
        requestsPerSecond: null,
        p50ms: null,
        p99ms: null,
        errors: 0,
        feed: 'memory',
        entries: s.entries,
        session: m.session,
        jti: m.jti,
        identifierLengths: { sub: m.subLength, sid: m.sidLength, jti: m.jtiLength },
        summary: `session entries ${m.session.bytesPerEntry} B each (${round(m.session.bytes / 2 ** 20)} MiB), jti entries ${m.jti.bytesPerEntry} B each (${round(m.jti.bytes / 2 ** 20)} MiB)`,
      });
    }
    cleanup.pop();
    await child.stop();
  }
}
