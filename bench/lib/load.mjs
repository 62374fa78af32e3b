// Bounded load runs with autocannon against 127.0.0.1: a warm-up, then BENCH_RUNS measured
// runs whose median is reported.
import autocannon from 'autocannon';

export const DEFAULTS = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 6),
  warmupSeconds: Number(process.env.BENCH_WARMUP ?? 2),
  runs: Math.max(1, Number(process.env.BENCH_RUNS ?? 3)),
};

export const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const figures = (r) => ({
  requestsPerSecond: Math.round(r.requests.average),
  p50ms: r.latency.p50,
  p99ms: r.latency.p99,
  errors: r.errors + r.timeouts + r.non2xx,
  total: r.requests.total,
});

/**
 * A request shape to load: `once(seconds)` makes one autocannon run and returns its figures.
 * `requests` (autocannon's) lets a `setupRequest` give each request its own token.
 */
export function shape({ url, method = 'POST', headers = {}, body, requests, connections = DEFAULTS.connections }) {
  const opts = { url, method, headers, body, requests, connections, pipelining: 1 };
  return { once: async (seconds) => figures(await run({ ...opts, duration: seconds })) };
}

/**
 * A shape whose requests each consume a token (refresh-token rotation): before every run,
 * `obtain(n)` supplies a fresh pool sized from the rate seen so far; each token is sent exactly
 * once (`build(item)` makes the request) and those a run did not reach go back via `giveBack`.
 * `successor(item, json)` turns a successful response into the item that replaces the one it
 * consumed (the rotated refresh token), queued behind the pool: a run that outpaces its pool
 * goes on with tokens issued during the run instead of failing.
 */
export function consumingShape({ url, build, obtain, successor, giveBack = () => undefined, guessPerSecond = 1000, connections = DEFAULTS.connections }) {
  let rate = guessPerSecond;
  return {
    async once(seconds) {
      // Generous: a run that outpaces every earlier one must not run out (it would count as errors).
      const pool = await obtain(Math.ceil(rate * seconds * 2.5) + 500);
      const requests = pooled(pool, build, { cycle: false, successor });
      const r = await run({ url, requests, connections, pipelining: 1, duration: seconds });
      giveBack(pool.slice(requests.used())); // built into no request: still unused
      rate = Math.max(rate, (r.requests.total - r.non2xx) / seconds);
      return { ...figures(r), poolSize: pool.length };
    },
  };
}

/**
 * Measures shapes interleaved: a warm-up of each, then `runs` rounds of one run per shape
 * (A B A B A B), so a baseline and the scenario it is compared with see the same machine
 * load even when other work comes and goes. Figures per shape: medians over its runs.
 */
export async function measureInterleaved(shapes, { runs = DEFAULTS.runs, durationSeconds = DEFAULTS.durationSeconds, warmup = true } = {}) {
  if (warmup && DEFAULTS.warmupSeconds > 0) for (const s of shapes) await s.once(DEFAULTS.warmupSeconds);
  const all = shapes.map(() => []);
  for (let i = 0; i < runs; i += 1) {
    for (const [j, s] of shapes.entries()) all[j].push(await s.once(durationSeconds));
  }
  return all.map(summarize);
}

/** One shape: a warm-up, then `runs` measured runs; req/s, p50 and p99 are each the median. */
export async function measure(opts, options) {
  return (await measureInterleaved([opts.once ? opts : shape(opts)], options))[0];
}

/** Median figures of several runs of the same shape. */
export function summarize(all) {
  return {
    requestsPerSecond: Math.round(median(all.map((r) => r.requestsPerSecond))),
    p50ms: median(all.map((r) => r.p50ms)),
    p99ms: median(all.map((r) => r.p99ms)),
    errors: all.reduce((n, r) => n + r.errors, 0),
    total: all.reduce((n, r) => n + r.total, 0),
    runs: all,
  };
}

/**
 * One autocannon request whose headers and body come from `build(next item of pool)`. With
 * `cycle: false` every item is used once; past the end, requests carry an unknown token and
 * show up as errors (the pool was too small for the run). With `successor` (consumingShape),
 * every 200 response appends `successor(item it answered, parsed body)` to the pool.
 */
export function pooled(pool, build, { cycle = true, successor } = {}) {
  let i = 0;
  const state = { used: () => i };
  const request = {
    setupRequest(req, context) {
      const item = cycle || i < pool.length ? pool[i % pool.length] : { ...pool[0], token: 'pool-exhausted' };
      i += 1;
      context.item = item; // autocannon's per-connection context; pipelining is 1
      const built = build(item);
      return { ...req, ...built, headers: { ...req.headers, ...built.headers } };
    },
  };
  if (successor) {
    request.onResponse = (status, body, context) => {
      if (status === 200) pool.push(successor(context.item, JSON.parse(body)));
    };
  }
  const requests = [request];
  return Object.assign(requests, state);
}

export const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
export const form = (params) => new URLSearchParams(params).toString();
export const FORM = 'application/x-www-form-urlencoded';

/** POSTs a form once and returns the JSON (used to obtain tokens and to check responses). */
export async function post(url, params, authorization) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, authorization }, body: form(params) });
  const json = await res.json().catch(() => ({}));
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}
