// The revocation feed's cost inside an API process, measured in a child of its own (forked with
// --expose-gc and an IPC channel; the driver sends one message with what it needs and gets one
// back):
// - memory: V8 heap used after full collections, before and after a RevocationSet takes 100,000
//   live entries applied from SETs shaped like Tessera's (token-revoked by jti; then
//   session-revoked for one client's session, each of another user: a UUID `sub`), identifiers
//   as long as the real token's;
// - hot path: jose `jwtVerify` of a real Tessera ES256 access token with a local key, alone,
//   against `jwtVerify` + `feed.revoked(payload)`, the feed a real one that caught up with
//   Tessera's stream (every revocation still in the window), and against `jwtVerify` +
//   `RevocationSet.matches` on the 100,000 session entries, and against jwtVerify alone once more
//   (a control: how far two identical sides come apart). Operations alternate one by one (see
//   `interleaved`). The token is one nobody revoked, as most are.
// Tokens are never printed.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { createRevocationFeed, RevocationSet, SESSION_REVOKED, TOKEN_REVOKED } from '@tessera/resource-server';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Heap used after full collections (several: weak references and finalizers settle). */
async function settledHeap() {
  for (let i = 0; i < 4; i += 1) {
    globalThis.gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

const id = (length) => randomBytes(Math.ceil((length * 3) / 4) + 1).toString('base64url').slice(0, length);

/**
 * Fills a RevocationSet with `n` entries of one kind, as the feed does: each SET's claims come
 * out of JSON.parse (jose parses the verified payload), so the strings kept are flat copies.
 */
function fill(set, n, kind, { issuer, sidLength, jtiLength }) {
  const now = Math.floor(Date.now() / 1000);
  const until = now + 3600;
  for (let i = 0; i < n; i += 1) {
    const claims = kind === 'session'
      ? {
        iss: issuer, jti: `${i}.bench`, iat: now,
        sub_id: { format: 'complex', user: { format: 'iss_sub', iss: issuer, sub: randomUUID() }, session: { format: 'opaque', id: id(sidLength) } },
        events: { [SESSION_REVOKED]: { event_timestamp: now, tessera_valid_until: until } },
      }
      : {
        iss: issuer, jti: `${i}.bench`, iat: now,
        sub_id: { format: 'jwt_id', iss: issuer, jti: id(jtiLength) },
        events: { [TOKEN_REVOKED]: { event_timestamp: now, tessera_valid_until: until } },
      };
    const result = set.apply(JSON.parse(JSON.stringify(claims)), now);
    if (result.effect !== 'revoked') throw new Error(`RevocationSet.apply: ${JSON.stringify(result)}`);
  }
}

async function measureMemory(n, kind, shape) {
  const before = await settledHeap();
  const set = new RevocationSet({ maxEntries: 2 * n });
  fill(set, n, kind, shape);
  const after = await settledHeap();
  if (set.size !== n) throw new Error(`expected ${n} entries, the set holds ${set.size}`);
  return { figures: { entries: n, heapBeforeBytes: before, heapAfterBytes: after, bytes: after - before, bytesPerEntry: Math.round((after - before) / n) }, set };
}

async function memory(n, shape) {
  // jti entries first, then dropped; the session entries are kept for the hot path.
  let jti = await measureMemory(n, 'jti', shape);
  const jtiFigures = jti.figures;
  jti = null;
  const session = await measureMemory(n, 'session', shape);
  return { memory: { ...shape, jti: jtiFigures, session: session.figures }, sessions: session.set };
}

/**
 * The sides' operations interleaved one by one, the order rotating every round, for `ms`: each
 * operation timed on its own, so every side sees the machine's other work alike (runs of a
 * second or more, on this shared machine, differed by ±10% between identical sides). Per side:
 * operations per second over all its operations, and over all but its slowest 1% (GC pauses and
 * preemptions land on one side or another at random: the figure compared), and the median.
 */
async function interleaved(sides, ms) {
  const names = Object.keys(sides);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  const deadline = performance.now() + ms;
  for (let round = 0; performance.now() < deadline; round += 1) {
    for (let k = 0; k < names.length; k += 1) {
      const name = names[(round + k) % names.length];
      const t0 = process.hrtime.bigint();
      await sides[name]();
      times[name].push(Number(process.hrtime.bigint() - t0));
    }
  }
  return Object.fromEntries(names.map((name) => {
    const sorted = times[name].sort((x, y) => x - y);
    const sum = (a) => a.reduce((x, y) => x + y, 0);
    const kept = sorted.slice(0, Math.max(1, Math.floor(sorted.length * 0.99)));
    return [name, {
      operations: sorted.length,
      opsPerSecond: Math.round(1e9 / (sum(kept) / kept.length)),
      opsPerSecondAll: Math.round(1e9 / (sum(sorted) / sorted.length)),
      medianMicros: Number((median(sorted) / 1000).toFixed(1)),
    }];
  }));
}

async function main(input) {
  const { issuer, audience, token, revokedToken, entries, seconds } = input;
  const claims = decodeJwt(token);
  const shape = { issuer, subLength: String(claims.sub ?? '').length, sidLength: String(claims.sid ?? id(21)).length, jtiLength: String(claims.jti ?? id(43)).length };
  const { memory: mem, sessions } = await memory(entries, shape);

  // The access token's key, imported once (as jwks-rsa / createRemoteJWKSet keep it cached).
  const { kid } = decodeProtectedHeader(token);
  const jwks = await (await fetch(`${issuer}/jwks`)).json();
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error('the access token\'s key is not in the issuer\'s /jwks');
  const key = await importJWK(jwk, 'ES256');
  const options = { issuer, audience, algorithms: ['ES256'] };

  const feed = createRevocationFeed({
    issuer,
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    description: 'bench hot path',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  try {
    const readyStarted = performance.now();
    await feed.ready();
    const readyMs = performance.now() - readyStarted;
    const feedEntries = feed.health().entries;
    const { payload } = await jwtVerify(token, key, options);
    if (feed.revoked(payload) !== false || sessions.matches(payload) !== false) throw new Error('the hot path token counts as revoked');
    const revokedSeen = revokedToken ? feed.revoked(decodeJwt(revokedToken)) : null;

    let sink = 0;
    const VERIFY = 'jwtVerify';
    const CONTROL = 'jwtVerify (again)';
    const FEED = 'jwtVerify + feed.revoked';
    const SET = 'jwtVerify + RevocationSet.matches (100k)';
    const sides = {
      [VERIFY]: async () => {
        const r = await jwtVerify(token, key, options);
        sink += r.payload.iat;
      },
      // The same as the first: how far apart two identical sides come out (the noise).
      [CONTROL]: async () => {
        const r = await jwtVerify(token, key, options);
        sink += r.payload.iat;
      },
      [FEED]: async () => {
        const r = await jwtVerify(token, key, options);
        if (feed.revoked(r.payload)) throw new Error('revoked');
        sink += r.payload.iat;
      },
      [SET]: async () => {
        const r = await jwtVerify(token, key, options);
        if (sessions.matches(r.payload)) throw new Error('revoked');
        sink += r.payload.iat;
      },
    };
    await interleaved(sides, 1000); // warm-up
    const sideFigures = await interleaved(sides, seconds * 1000);
    // The lookup alone: the check an API adds to each request, in nanoseconds.
    const lookup = (check) => {
      const n = 1_000_000;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i += 1) if (check(payload)) sink += 1;
      return Number(process.hrtime.bigint() - t0) / n;
    };
    const nsFeed = lookup(feed.revoked);
    const nsSet = lookup((p) => sessions.matches(p));
    const alone = sideFigures[VERIFY].opsPerSecond;
    const ratio = (name) => Number((sideFigures[name].opsPerSecond / alone).toFixed(3));
    return {
      memory: mem,
      hotPath: {
        secondsInterleaved: seconds,
        verifyOpsPerSecond: alone,
        verifyAndFeedOpsPerSecond: sideFigures[FEED].opsPerSecond,
        verifyAndSetOpsPerSecond: sideFigures[SET].opsPerSecond,
        ratio: ratio(FEED),
        ratioWith100kSet: ratio(SET),
        controlRatio: ratio(CONTROL),
        sides: sideFigures,
        nsPerFeedRevoked: Number(nsFeed.toFixed(1)),
        nsPerSetMatches100k: Number(nsSet.toFixed(1)),
        feedEntries,
        feedReadyMs: Number(readyMs.toFixed(1)),
        revokedTokenSeenByFeed: revokedSeen,
        sink: sink > 0,
      },
    };
  } finally {
    await feed.close();
  }
}

process.once('message', (input) => {
  main(input).then(
    (result) => process.send({ type: 'result', ...result }),
    (err) => process.send({ type: 'error', message: String(err?.stack ?? err) }),
  ).finally(() => process.disconnect());
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
