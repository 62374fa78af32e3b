// The printed tables and the JSON written to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const pad = (s, n) => String(s ?? '—').padEnd(n);

/** Each result's ratio to the baseline it was measured interleaved with, and to bare Koa. */
export function addRatios(results) {
  const koa = results.find((r) => r.scenario === 'koa hello');
  for (const r of results) {
    const b = r.baselineResult;
    r.ratioToBaseline = b && r.requestsPerSecond !== null ? Number((r.requestsPerSecond / b.requestsPerSecond).toFixed(2)) : null;
    r.ratioToKoa = koa && r !== koa && r.requestsPerSecond !== null ? Number((r.requestsPerSecond / koa.requestsPerSecond).toFixed(3)) : null;
  }
}

export function printTables(results, extras) {
  const rows = results.filter((r) => r.requestsPerSecond !== null);
  console.log(`\n${pad('scenario', 44)}${pad('database', 12)}${pad('req/s', 8)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('bare req/s', 12)}${pad('bare p99', 10)}${pad('ratio', 8)}vs koa`);
  for (const r of rows) {
    const b = r.baselineResult;
    console.log(`${pad(r.scenario, 44)}${pad(r.database, 12)}${pad(r.requestsPerSecond, 8)}${pad(r.p50ms, 8)}${pad(r.p99ms, 8)}${pad(r.errors, 8)}${pad(b?.requestsPerSecond, 12)}${pad(b?.p99ms, 10)}${pad(r.ratioToBaseline === null ? '—' : `${r.ratioToBaseline}×`, 8)}${r.ratioToKoa === null ? '—' : `${r.ratioToKoa}×`}`);
  }
  console.log('(bare = bare oidc-provider with its memory adapter, measured in runs interleaved with the row\'s own;');
  console.log(' vs koa = the row\'s req/s against bare Koa\'s hello, the ceiling of any endpoint, measured at the start of the run;');
  console.log(' login: req/s is complete sign-ins per second, p50/p99 the time of one whole sign-in.)');
  for (const f of results.filter((r) => r.p99RatioToQuiet !== undefined)) {
    console.log(`introspection p99 during login flood (${f.database}): ${f.p99ms} ms vs ${f.quietP99ms} ms without = ${f.p99RatioToQuiet}× (target < 3×); ${f.loginsPerSecondDuringFlood} logins/s alongside`);
  }
  const logouts = results.filter((r) => r.grants !== undefined);
  if (logouts.length) {
    console.log(`\n${pad('logout (POST /logout/confirm)', 44)}${pad('database', 12)}${pad('median ms', 11)}${pad('max ms', 9)}${pad('reps', 6)}tokens still active after`);
    for (const r of logouts) {
      console.log(`${pad(r.scenario, 44)}${pad(r.database, 12)}${pad(r.medianMs, 11)}${pad(r.maxMs, 9)}${pad(r.repetitions, 6)}${r.tokensStillActive} of ${r.tokensChecked}`);
    }
  }
  const feed = results.filter((r) => r.feed !== undefined);
  if (feed.length) {
    // bench/scenarios/revocation-feed.mjs: measurements against targets, reported, not asserted.
    console.log(`\n${pad('revocation feed', 44)}${pad('database', 12)}figures`);
    for (const r of feed) {
      const name = r.scenario.replace(/^revocation feed: /, '');
      let line;
      if (r.feed === 'propagation') {
        line = `p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, max ${r.maxMs} ms (target p99 < ${r.targetP99Ms} ms) over ${r.logouts} logouts`
          + `${r.stoppedByTimeLimit ? ` of ${r.logoutsWanted} (time limit)` : ''}; ${r.revokedAtFirstCall} already 401 at the first call, `
          + `${r.notRevokedWithinMs.count} not within ${r.notRevokedWithinMs.ms / 1000} s; load ${r.load.requestsPerSecond} req/s, ${r.load.errors} errors`;
      } else if (r.feed === 'hotPath') {
        line = `${r.verifyOpsPerSecond} → ${r.verifyAndFeedOpsPerSecond} ops/s = ${r.ratio}× (target ≥ ${r.targetRatio}×), feed of ${r.feedEntries} entries; `
          + `100k-entry set ${r.ratioWith100kSet}×; control ${r.controlRatio}×; the check alone ${r.nsPerFeedRevoked} ns`;
      } else if (r.feed === 'memory') {
        line = `${r.entries} session entries ${r.session.bytesPerEntry} B/entry (${(r.session.bytes / 2 ** 20).toFixed(1)} MiB), jti entries ${r.jti.bytesPerEntry} B/entry`;
      } else if (r.feed === 'logout') {
        line = `${r.grantsPerSession} grants: median ${r.noStreamsMedianMs} ms with 0 streams, ${r.medianMs} ms with ${r.streams} = ${r.ratioToNoStreams}× `
          + `(of ${r.repetitions} each; ${r.tokensStillActive} of ${r.tokensChecked} tokens still active after)`;
      } else {
        line = r.summary ?? '';
      }
      console.log(`${pad(name, 44)}${pad(r.database, 12)}${line}`);
    }
  }
  console.log('');
  for (const [database, s] of Object.entries(extras.seeding)) {
    console.log(`seeding (${database}): ${s.counts.users} users, ${s.counts.liveRows} live rows in ${s.seconds} s`);
  }
  for (const r of extras.restarts) console.log(`restart (${r.database}): the server was stopped from outside during ${r.during}; measured again`);
  console.log(`total time: ${extras.totalSeconds} s`);
}

export function writeJson(root, settings, results, extras) {
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  const out = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, settings, ...extras, results }, null, 2));
  return out;
}
