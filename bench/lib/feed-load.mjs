// Steady load on the revocation-feed scenario's API, from a child process of its own (forked,
// with an IPC channel): autocannon at a fixed overall rate, every request GET /data with the
// Bearer token of a user who stays signed in. Messages from the driver: {type: 'token', token}
// replaces the token (before it expires), {type: 'stop'} ends the run; the child then sends
// {type: 'result', ...figures} and exits. It also stops at FEED_LOAD_MAX_SECONDS, and when the
// driver goes away. Environment: FEED_LOAD_URL, FEED_LOAD_TOKEN, FEED_LOAD_RATE (requests/s,
// all connections together), FEED_LOAD_CONNECTIONS, FEED_LOAD_MAX_SECONDS.
import autocannon from 'autocannon';

let token = process.env.FEED_LOAD_TOKEN;
const rate = Number(process.env.FEED_LOAD_RATE);
const started = performance.now();

const instance = autocannon({
  url: process.env.FEED_LOAD_URL,
  connections: Number(process.env.FEED_LOAD_CONNECTIONS),
  overallRate: rate,
  pipelining: 1,
  duration: Number(process.env.FEED_LOAD_MAX_SECONDS),
  requests: [{ method: 'GET', path: '/data', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } }) }],
}, (err, r) => {
  if (err) {
    process.send?.({ type: 'error', message: String(err.message ?? err) });
  } else {
    const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
    process.send?.({
      type: 'result',
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      targetRate: rate,
      connections: r.connections,
      requestsPerSecond: Math.round(r.requests.average),
      total: r.requests.total,
      p50ms: r.latency.p50,
      p99ms: r.latency.p99,
      maxMs: r.latency.max,
      errors: r.errors + r.timeouts + r.non2xx,
      non2xx: r.non2xx,
      timeouts: r.timeouts,
      connectionErrors: r.errors,
      statusCodes,
    });
  }
  process.disconnect?.();
});

process.on('message', (m) => {
  if (m?.type === 'token') token = m.token;
  else if (m?.type === 'stop') instance.stop();
});
process.on('disconnect', () => instance.stop());
process.on('SIGTERM', () => process.exit(0));
