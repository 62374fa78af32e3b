// `npm run bench`: Tessera against baselines measured in the same run, on SQLite and PostgreSQL,
// each Tessera database freshly seeded with 10k users and 100k live rows first.
// Prints tables and writes bench/results/<timestamp>.json with machine information.
// Environment: BENCH_DURATION (s per measured run, default 6), BENCH_RUNS (3; figures are the
// median), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (50), BENCH_LOGIN_CONCURRENCY (4),
// BENCH_LOGOUT_REPS (5), BENCH_SEED_USERS (10000), BENCH_DATABASES (default
// "sqlite,postgresql"; PostgreSQL is skipped, and said so, if unreachable).
import { DEFAULTS, measure, measureInterleaved } from './lib/load.mjs';
import { freshDatabase, root, startTessera } from './lib/processes.mjs';
import { addRatios, printTables, writeJson } from './lib/report.mjs';
import { SEED_DEFAULTS } from './lib/seed.mjs';
import { BARE, startBaselines } from './scenarios/baselines.mjs';
import { LOGIN_CONCURRENCY, loginScenarios } from './scenarios/login.mjs';
import { LOGOUT_GRANTS, LOGOUT_REPETITIONS, logoutScenarios } from './scenarios/logout.mjs';
import { setUpTessera } from './scenarios/tessera-setup.mjs';
import { tokenScenarios } from './scenarios/tokens.mjs';

const started = performance.now();
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgresql').split(',').map((s) => s.trim()).filter(Boolean);
const results = [];
const seeding = {};
const log = (...a) => console.error('[bench]', ...a);

function record(name, database, baseline, m) {
  results.push({ scenario: name, database, baseline, ...m });
  const figures = m.requestsPerSecond === null ? `median ${m.medianMs} ms, max ${m.maxMs} ms` : `${m.requestsPerSecond} req/s, p50 ${m.p50ms} ms, p99 ${m.p99ms} ms`;
  const bare = m.baselineResult ? ` (bare: ${m.baselineResult.requestsPerSecond} req/s, p99 ${m.baselineResult.p99ms} ms)` : '';
  log(`${name} (${database}): ${figures}, errors ${m.errors}${bare}`);
}

async function benchTessera(kind, baselines) {
  // A Tessera shape and its baseline's, interleaved run by run; the baseline's figures ride along.
  const compare = async (name, baselineName, tesseraShape) => {
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
  try {
    const ctx = await setUpTessera(server, kind, log);
    seeding[kind] = { seconds: ctx.seeded.seconds, counts: ctx.seeded.counts };
    const { userAtIntrospection } = await tokenScenarios(ctx, compare);
    await loginScenarios(ctx, kind, record, userAtIntrospection);
    await logoutScenarios(ctx, kind, record);
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
  record('koa hello', 'none', null, await measure(baselines.koaHello));
  for (const kind of databases) await benchTessera(kind, baselines);
} finally {
  await baselines.stop();
}

addRatios(results);
const extras = { seeding, totalSeconds: Math.round((performance.now() - started) / 1000) };
printTables(results, extras);
const settings = { ...DEFAULTS, loginConcurrency: LOGIN_CONCURRENCY, logoutGrants: LOGOUT_GRANTS, logoutRepetitions: LOGOUT_REPETITIONS, seed: SEED_DEFAULTS, databases };
console.log(`\nwritten ${writeJson(root, settings, results, extras)}`);
