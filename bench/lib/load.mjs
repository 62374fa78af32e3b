// One bounded load run with autocannon against 127.0.0.1.
import autocannon from 'autocannon';

export const DEFAULTS = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 8),
  warmupSeconds: Number(process.env.BENCH_WARMUP ?? 2),
};

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * Measures one request shape: a short warm-up, then the measured run.
 * `check(body)` (optional) validates a sample response first, so a benchmark never measures errors.
 */
export async function measure({ url, method = 'POST', headers = {}, body, connections = DEFAULTS.connections, durationSeconds = DEFAULTS.durationSeconds }) {
  const opts = { url, method, headers, body, connections, pipelining: 1 };
  if (DEFAULTS.warmupSeconds > 0) await run({ ...opts, duration: DEFAULTS.warmupSeconds });
  const r = await run({ ...opts, duration: durationSeconds });
  return {
    requestsPerSecond: Math.round(r.requests.average),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    total: r.requests.total,
  };
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
