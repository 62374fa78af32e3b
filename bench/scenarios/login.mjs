// Password sign-ins (argon2id at the server's default parameters, src/config.ts ARGON2_*):
// throughput of complete sign-ins, then the p99 of introspection while a sign-in flood runs,
// against its p99 without the flood (the seeded user-AT introspection measured just before).
import { DEFAULTS, FORM, form, median, measure, pooled, summarize } from '../lib/load.mjs';
import { loginFlood } from '../lib/login.mjs';

export const LOGIN_CONCURRENCY = Number(process.env.BENCH_LOGIN_CONCURRENCY ?? 4);

export async function loginScenarios(ctx, kind, record, quietIntrospection) {
  const { server, seeded, password } = ctx;
  const flood = (seconds) => loginFlood({
    issuer: server.url,
    client: ctx.appClient,
    users: seeded.users,
    password,
    concurrency: LOGIN_CONCURRENCY,
    durationMs: seconds * 1000,
  });

  await flood(DEFAULTS.warmupSeconds);
  const alone = [];
  for (let i = 0; i < DEFAULTS.runs; i += 1) alone.push(await flood(DEFAULTS.durationSeconds));
  const logins = {
    requestsPerSecond: median(alone.map((r) => r.loginsPerSecond)),
    p50ms: median(alone.map((r) => r.p50ms)),
    p99ms: median(alone.map((r) => r.p99ms)),
    errors: alone.reduce((n, r) => n + r.errors, 0),
    total: alone.reduce((n, r) => n + r.total, 0),
    concurrency: LOGIN_CONCURRENCY,
    unit: 'logins/s (p50/p99: one whole sign-in)',
    runs: alone,
  };
  record('login: password sign-in (full flow)', kind, null, logins);

  // Introspection of seeded user access tokens, each run with a flood of sign-ins alongside.
  const headers = { 'content-type': FORM, authorization: ctx.rsAuth };
  const introspect = ({ token }) => ({ method: 'POST', path: '/token/introspection', headers, body: form({ token }) });
  const during = [];
  const floods = [];
  for (let i = 0; i < DEFAULTS.runs; i += 1) {
    const running = flood(DEFAULTS.durationSeconds + 1);
    await new Promise((r) => setTimeout(r, 500)); // the flood is under way before measuring
    during.push(await measure({ url: server.url, requests: pooled(seeded.accessPool, introspect) }, { runs: 1, warmup: false }));
    floods.push(await running);
  }
  const summary = summarize(during);
  const flooded = {
    ...summary,
    quietP99ms: quietIntrospection.p99ms,
    p99RatioToQuiet: Number((summary.p99ms / quietIntrospection.p99ms).toFixed(2)),
    loginsPerSecondDuringFlood: median(floods.map((r) => r.loginsPerSecond)),
    loginErrorsDuringFlood: floods.reduce((n, r) => n + r.errors, 0),
    runs: during.map((r) => r.runs[0]),
  };
  record('introspection: user AT during login flood', kind, null, flooded);
  return { logins, flooded };
}
