// `node bench/profile.mjs <scenario> [sqlite|postgresql|bare]` (after npm run build), scenario one
// of introspection, introspection-jwt, cc, cc-jwt, rotation, userinfo, login: seeds a fresh database as
// `npm run bench` does, runs one scenario's load against Tessera started with `node --cpu-prof`,
// and prints where the server's time went (bench/README.md). With `bare`, the same load (the
// token scenarios only) goes to the bare oidc-provider baseline, profiled the same way, so the
// main-thread time per request of both can be compared. PROFILE_ENV (JSON) adds to Tessera's
// environment, e.g. '{"DATABASE_POOL_SIZE":"20"}'; PROFILE_INTERVAL sets the sampling interval (µs).
// PROFILE_PERF=1 (token scenarios) counts the server's instructions per request with `perf stat`
// instead of sampling a profile: unlike time, a count hardly moves with the host's load.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import argon2 from 'argon2';

import { monotonicMicros, summarizeProfile } from './lib/cpuprofile.mjs';
import { DEFAULTS, FORM, basic, consumingShape, form, measure, pooled, post, shape } from './lib/load.mjs';
import { loginFlood } from './lib/login.mjs';
import { freePort, freshDatabase, root, startProcess, startTessera } from './lib/processes.mjs';
import { BASELINE_CLIENT } from './scenarios/baselines.mjs';
import { setUpTessera } from './scenarios/tessera-setup.mjs';

const [scenario = 'rotation', kind = 'sqlite'] = process.argv.slice(2);
const log = (...a) => console.error('[profile]', ...a);
DEFAULTS.warmupSeconds = 0; // every request the server sees under load is counted below
let requests;
const dir = mkdtempSync(join(tmpdir(), 'tessera-prof-'));
// PROFILE_INTERVAL: µs between samples (V8's default, 1000, leaves few samples for a short request).
const counting = process.env.PROFILE_PERF === '1' || process.env.PROFILE_PERF === 'record';
const recording = process.env.PROFILE_PERF === 'record';
// PROFILE_PERF=cpu: no profiler and no perf (a machine without hardware counters), only each
// thread's CPU time per request (/proc) after the same warm-up.
const cpuOnly = process.env.PROFILE_PERF === 'cpu';
// A V8 CPU profile is written (and summarised at the end) unless perf or /proc does the measuring.
const cpuProfiling = !counting && !cpuOnly;
const heapProfile = process.env.PROFILE_HEAP ? join(dir, 'heap.json') : undefined;
const profiling = [...(process.env.PROFILE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(heapProfile ? [`--import=${join(root, 'bench/lib/heap-sampler.mjs')}`] : []), ...(cpuProfiling ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(process.env.PROFILE_INTERVAL ? [`--cpu-prof-interval=${process.env.PROFILE_INTERVAL}`] : [])] : recording ? ['--perf-basic-prof'] : [])];
const TOKEN_SCENARIOS = {
  introspection: async (url, auth) => {
    const { access_token: token } = await post(`${url}/token`, { grant_type: 'client_credentials' }, auth);
    return { url: `${url}/token/introspection`, body: form({ token }) };
  },
  'introspection-jwt': async (url, auth) => {
    const { access_token: token } = await post(`${url}/token`, { grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }, auth);
    return { url: `${url}/token/introspection`, body: form({ token }) };
  },
  cc: async (url) => ({ url: `${url}/token`, body: form({ grant_type: 'client_credentials' }) }),
  'cc-jwt': async (url) => ({ url: `${url}/token`, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }),
};
let window;
let cpu;
let instructions;
let recorded;
let heap;
/** `perf stat` attached to a process: instructions retired by each of its threads until stop(). */
async function countInstructions(pid) {
  const data = join(dir, 'perf.data');
  const perf = recording
    ? spawn('perf', ['record', ...(process.env.PROFILE_PERF_CALLS ? ['-g'] : []), '-e', 'instructions:u', '-c', '20000', '-o', data, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('perf', ['stat', '-e', 'instructions:u,instructions:k', '--per-thread', '-x', ',', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  perf.stderr.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 300)); // attached
  return {
    async stop() {
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
      if (recording) {
        // one sample per 20,000 user-space instructions: a symbol's samples × 20k / requests
        const report = spawn('perf', ['report', '-i', data, '--stdio', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym', '--percent-limit', '0.2'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let text = '';
        report.stdout.on('data', (d) => (text += d));
        await new Promise((r) => report.once('exit', r));
        recorded = text;
        log(`perf data: ${data}`);
        return { recorded: 1 };
      }
      const byThread = {};
      for (const line of out.split('\n')) {
        const [thread, count, , event] = line.split(',');
        if (process.env.PROFILE_PERF_RAW) console.error(line);
        if (!event?.startsWith('instructions') || !Number(count)) continue;
        const name = thread.replace(/-\d+$/, '');
        byThread[name] = (byThread[name] ?? 0) + Number(count);
      }
      return byThread;
    },
  };
}
/** User and system CPU time of a process (all its threads, and per thread name), in ms (Linux /proc). */
function cpuMillis(pid) {
  const ticks = (stat) => {
    const fields = stat.split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ 100
  };
  const threads = {};
  const switches = {};
  const count = (status, field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads[name] = (threads[name] ?? 0) + ticks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const s = (switches[name] ??= { voluntary: 0, involuntary: 0 });
      s.voluntary += count(status, 'voluntary_ctxt_switches');
      s.involuntary += count(status, 'nonvoluntary_ctxt_switches');
    } catch {
      // the thread ended meanwhile
    }
  }
  return { total: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')), threads, switches };
}
const tokenLoad = async (url, auth, pid) => {
  const { url: target, body } = await TOKEN_SCENARIOS[scenario](url, auth);
  const from = monotonicMicros();
  const load = shape({ url: target, headers: { 'content-type': FORM, authorization: auth }, body });
  // Counting: the just-in-time compilation of a cold start is left out, as `npm run bench` leaves it.
  if (counting || cpuOnly) await load.once(5);
  const counter = counting ? await countInstructions(pid) : undefined;
  if (heapProfile) process.kill(pid, 'SIGUSR2');
  const cpuFrom = cpuMillis(pid);
  const figures = await measure(load, { runs: 1 });
  window = [from, monotonicMicros()];
  const cpuTo = cpuMillis(pid);
  if (counter) instructions = await counter.stop();
  if (heapProfile) {
    process.kill(pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 2000));
    heap = JSON.parse(readFileSync(heapProfile, 'utf8'));
  }
  const since = (k, which) => cpuTo.switches[k][which] - (cpuFrom.switches[k]?.[which] ?? 0);
  cpu = {
    total: cpuTo.total - cpuFrom.total,
    threads: Object.fromEntries(Object.entries(cpuTo.threads).map(([k, v]) => [k, v - (cpuFrom.threads[k] ?? 0)])),
    switches: Object.fromEntries(Object.keys(cpuTo.switches).map((k) => [k, { voluntary: since(k, 'voluntary'), involuntary: since(k, 'involuntary') }])),
  };
  return figures;
};
if (kind === 'bare') {
  if (!TOKEN_SCENARIOS[scenario]) throw new Error(`bare: only ${Object.keys(TOKEN_SCENARIOS).join(', ')}`);
  const port = await freePort();
  const bare = await startProcess(join(root, 'bench/baselines/oidc-provider.mjs'), { PORT: String(port), TESSERA_HEAP_PROFILE: heapProfile ?? '' }, 'baseline listening', undefined, profiling);
  let figures;
  try {
    figures = await tokenLoad(`http://127.0.0.1:${port}`, basic(BASELINE_CLIENT.id, BASELINE_CLIENT.secret), bare.pid);
    gcSummary(bare);
  } finally {
    await bare.stop();
  }
  report(figures);
  process.exit(0);
}
const database = await freshDatabase(kind);
const server = await startTessera(database, { ...(process.env.PROFILE_ENV ? JSON.parse(process.env.PROFILE_ENV) : {}), ...(heapProfile ? { TESSERA_HEAP_PROFILE: heapProfile } : {}) }, profiling);
try {
  const ctx = await setUpTessera(server, kind, log);
  const seconds = DEFAULTS.durationSeconds;
  let figures;
  if (TOKEN_SCENARIOS[scenario]) {
    figures = await tokenLoad(server.url, ctx.rsAuth, server.pid);
  } else if (scenario === 'rotation') {
    const auth = basic(ctx.appClient.clientId, ctx.appClient.clientSecret);
    const own = ctx.seeded.refreshPool.filter((t) => t.clientId === ctx.appClient.clientId);
    figures = await measure(consumingShape({
      url: server.url,
      obtain: (n) => own.splice(0, n),
      build: ({ token }) => ({ method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: auth }, body: form({ grant_type: 'refresh_token', refresh_token: token }) }),
      guessPerSecond: 300,
    }), { runs: 1 });
  } else if (scenario === 'userinfo') {
    figures = await measure({ url: server.url, requests: pooled(ctx.seeded.accessPool, ({ token }) => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } })) }, { runs: 1 });
  } else if (scenario === 'login') {
    figures = await loginFlood({ issuer: server.url, client: ctx.appClient, users: ctx.seeded.users, password: ctx.password, concurrency: 4, durationMs: seconds * 1000 });
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  report(figures, false);
  gcSummary(server);
  if (scenario === 'login') {
    // argon2 runs on libuv's thread pool, outside the profile: time one verification here.
    const hash = await argon2.hash(ctx.password, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const t0 = performance.now();
    for (let i = 0; i < 20; i += 1) await argon2.verify(hash, ctx.password);
    log(`argon2id verify (m=19456 KiB, t=2, p=1, the server defaults): ${((performance.now() - t0) / 20).toFixed(1)} ms each, sequential, in this process`);
  }
} catch (err) {
  log(`failed; server output:\n${server.output().slice(-3000)}`);
  throw err;
} finally {
  await server.stop();
  await database.drop();
}
summarize();

/** With PROFILE_NODE_ARGS=--trace-gc: the server's last collections (PROFILE_GC=n lines of them). */
function gcSummary(proc) {
  if (!process.env.PROFILE_GC) return;
  const pattern = process.env.PROFILE_GC_PATTERN ? new RegExp(process.env.PROFILE_GC_PATTERN) : /: (Scavenge|Mark-Compact|Minor Mark-Sweep) /;
  const lines = proc.output().split('\n').filter((l) => pattern.test(l));
  console.error(lines.slice(-Number(process.env.PROFILE_GC)).join('\n'));
}

function report(figures, andSummarize = true) {
  const { runs: _runs, firstError, ...shown } = figures;
  if (firstError) log(`first error: ${JSON.stringify(firstError).slice(0, 600)}`);
  log(`${scenario} (${kind}): ${JSON.stringify(shown)}`);
  requests = (figures.runs ?? []).reduce((n, r) => n + r.total, 0) || figures.total;
  if (cpu !== undefined) {
    const per = (ms) => `${((ms * 1000) / requests).toFixed(0)} µs`;
    const threads = Object.entries(cpu.threads).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${per(v)}`).join(', ');
    log(`server process CPU per request (user + system): ${per(cpu.total)}; by thread: ${threads}`);
    // Involuntary switches: the thread was runnable and the kernel ran another in its place.
    const perK = (n) => ((n * 1000) / requests).toFixed(0);
    const switched = Object.entries(cpu.switches).filter(([, s]) => s.voluntary + s.involuntary > 0).map(([k, s]) => `${k} ${perK(s.voluntary)} / ${perK(s.involuntary)}`).join(', ');
    log(`context switches per 1,000 requests (voluntary / involuntary), by thread: ${switched}`);
  }
  if (heap) {
    // Bytes per request promoted to the old generation, by allocating function (self).
    const sites = new Map();
    const walk = (node) => {
      const f = node.callFrame;
      const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
      if (node.selfSize) sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
      for (const child of node.children ?? []) walk(child);
    };
    walk(heap.head);
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    console.log(`promoted to the old generation: ${(total / requests).toFixed(0)} bytes per request; by allocating function:`);
    for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 25))) console.log(`${(bytes / requests).toFixed(0).padStart(8)}  ${site}`);
  }
  if (recorded) {
    const lines = recorded.split('\n').filter((l) => /^\s+\d/.test(l)).sort((a, b) => Number(b.trim().split(/\s/)[0]) - Number(a.trim().split(/\s/)[0]));
    const top = Number(process.env.PROFILE_TOP ?? 40);
    console.log(`instructions per request by thread and symbol (k):`);
    for (const line of lines.slice(0, top)) {
      const [, samples, rest] = line.match(/^\s+(\d+)\s+(.*)$/);
      console.log(`${((Number(samples) * 20) / requests).toFixed(1).padStart(8)}  ${rest.replace(/\s+/g, ' ').slice(0, 150)}`);
    }
    return;
  }
  if (instructions) {
    const per = (n) => `${(n / requests / 1000).toFixed(0)}k`;
    const total = Object.values(instructions).reduce((a, b) => a + b, 0);
    const threads = Object.entries(instructions).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${per(v)}`).join(', ');
    log(`instructions per request (user + kernel): ${per(total)}; by thread: ${threads}`);
    return;
  }
  if (andSummarize) summarize();
}

function summarize() {
  if (!cpuProfiling) return;
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  console.log(`profile ${join(dir, file)}\n${summarizeProfile(join(dir, file), { requests, window, top: Number(process.env.PROFILE_TOP ?? 15), dump: process.env.PROFILE_DUMP })}`);
}
