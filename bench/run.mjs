// `npm run bench`: Tessera against baselines measured in the same run, on SQLite and PostgreSQL,
// each Tessera database freshly seeded with 10k users and 110k live rows first.
// Prints tables and writes bench/results/<timestamp>.json with machine information.
// Environment: BENCH_DURATION (s per measured run, default 6), BENCH_RUNS (3; figures are the
// median), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (50), BENCH_LOGIN_CONCURRENCY (4),
// BENCH_LOGOUT_REPS (5), BENCH_SEED_USERS (10000), BENCH_DATABASES (default
// "sqlite,postgresql"; PostgreSQL is skipped, and said so, if unreachable), BENCH_ONLY (a regular
// expression over scenario names, e.g. "introspection|client_credentials"; default all).
// The revocation feed's group (bench/scenarios/revocation-feed.mjs) has BENCH_FEED_* settings of its own.
import { DEFAULTS, measure, measureInterleaved } from './lib/load.mjs';
import { freshDatabase, root, startTessera } from './lib/processes.mjs';
import { addRatios, printTables, writeJson } from './lib/report.mjs';
import { SEED_DEFAULTS } from './lib/seed.mjs';
import { BARE, startBaselines } from './scenarios/baselines.mjs';
import { LOGIN_CONCURRENCY, loginScenarios } from './scenarios/login.mjs';
import { LOGOUT_GRANTS, LOGOUT_REPETITIONS, logoutScenarios } from './scenarios/logout.mjs';
import { FEED_SCENARIOS, FEED_SETTINGS, revocationFeedScenarios } from './scenarios/revocation-feed.mjs';
import { setUpTessera } from './scenarios/tessera-setup.mjs';
import { tokenScenarios } from './scenarios/tokens.mjs';

const started = performance.now();
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgresql').split(',').map((s) => s.trim()).filter(Boolean);
// BENCH_ONLY: a regular expression; only the scenarios whose names match are measured (while developing).
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const wanted = (name) => !only || only.test(name);
const results = [];
const seeding = {};
const restarts = [];
const log = (...a) => console.error('[bench]', ...a);

function record(name, database, baseline, m) {
  results.push({ scenario: name, database, baseline, ...m });
  const figures = m.summary ?? (m.requestsPerSecond === null ? `median ${m.medianMs} ms, max ${m.maxMs} ms` : `${m.requestsPerSecond} req/s, p50 ${m.p50ms} ms, p99 ${m.p99ms} ms`);
  const bare = m.baselineResult ? ` (bare: ${m.baselineResult.requestsPerSecond} req/s, p99 ${m.baselineResult.p99ms} ms)` : '';
  log(`${name} (${database}): ${figures}, errors ${m.errors}${bare}`);
}

async function benchTessera(kind, baselines) {
  // A Tessera shape and its baseline's, interleaved run by run; the baseline's figures ride along.
  const compare = async (name, baselineName, tesseraShape) => {
    // The login flood compares with the quiet user-AT introspection: measured whenever login is.
    if (!wanted(name) && !(name === 'introspection: user AT (seeded)' && wanted('login'))) return undefined;
    const [t, b] = await measureInterleaved([tesseraShape, baselines.shapes[baselineName]]);
    record(name, kind, baselineName, { ...t, baselineResult: { database: BARE, ...b } });
    return t;
  };
  const database = await freshDatabase(kind);
  if (!database) {
    log(`${kind}: not reachable, skipped`);
    return;
  }
  const server = await startTessera(database);
  // On a shared machine something else may stop our server (it has happened, by a signal: the
  // process ended its own graceful shutdown). Then the group of scenarios is measured again on a
  // restarted server, same database, and the restart is recorded; figures of the interrupted
  // attempt are dropped.
  const guarded = async (label, fn) => {
    for (let attempt = 1; ; attempt += 1) {
      const mark = results.length;
      try {
        const out = await fn();
        if (!server.exited()) return out;
      } catch (err) {
        // A server stopping gracefully refuses connections up to ~10 s before its process ends.
        for (let waited = 0; waited < 15_000 && !server.exited(); waited += 250) await new Promise((r) => setTimeout(r, 250));
        if (!server.exited() || attempt >= 2) throw err;
      }
      if (attempt >= 2) throw new Error(`${kind}: the server stopped twice during ${label}`);
      results.splice(mark);
      restarts.push({ database: kind, during: label, at: new Date().toISOString(), output: server.output().slice(-300) });
      log(`${kind}: the server stopped from outside during ${label}; restarting it and measuring ${label} again`);
      await server.restart();
    }
  };
  try {
    const ctx = await setUpTessera(server, kind, log);
    seeding[kind] = { seconds: ctx.seeded.seconds, counts: ctx.seeded.counts };
    const { userAtIntrospection } = await guarded('token scenarios', () => tokenScenarios(ctx, compare));
    if (wanted('login')) await guarded('login scenarios', () => loginScenarios(ctx, kind, record, userAtIntrospection));
    if (wanted('logout')) await guarded('logout scenarios', () => logoutScenarios(ctx, kind, record));
    if (Object.values(FEED_SCENARIOS).some(wanted)) await guarded('revocation feed scenarios', () => revocationFeedScenarios(ctx, kind, record, wanted, log));
  } catch (err) {
    log(`${kind} failed; the server's last output:\n${server.output().slice(-4000)}`);
    throw err;
  } finally {
    await server.stop();
    await database.drop();
  }
}

const baselines = await startBaselines();
try {
  if (wanted('koa hello')) record('koa hello', 'none', null, await measure(baselines.koaHello));
  for (const kind of databases) await benchTessera(kind, baselines);
} finally {
  await baselines.stop();
}

addRatios(results);
const extras = { seeding, restarts, totalSeconds: Math.round((performance.now() - started) / 1000) };
printTables(results, extras);
const settings = { ...DEFAULTS, loginConcurrency: LOGIN_CONCURRENCY, logoutGrants: LOGOUT_GRANTS, logoutRepetitions: LOGOUT_REPETITIONS, seed: SEED_DEFAULTS, revocationFeed: FEED_SETTINGS, databases };
console.log(`\nwritten ${writeJson(root, settings, results, extras)}`);
