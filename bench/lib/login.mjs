// Password sign-ins in a loop: each one is a fresh browser doing the whole code flow (authorize,
// login form with argon2id verification, consent, code exchange) for a random seeded user.
// `loginFlood` runs the loops in a worker thread, so an autocannon run in the main thread can
// measure another endpoint at the same time without sharing an event loop with them.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { Browser, codeFlow } from './flow.mjs';

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);

/** `concurrency` sign-in loops for `durationMs`; returns logins/s, latency percentiles, failures. */
export async function loginLoops({ issuer, client, users, password, concurrency, durationMs }) {
  const deadline = Date.now() + durationMs;
  const started = performance.now();
  const latencies = [];
  let failures = 0;
  let firstError;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      const user = users[Math.floor(Math.random() * users.length)];
      const t0 = performance.now();
      try {
        const { passwordPages } = await codeFlow(issuer, new Browser(), client, { email: user.email, password });
        if (passwordPages !== 1) throw new Error(`expected one password page, saw ${passwordPages}`);
        latencies.push(performance.now() - t0);
      } catch (err) {
        failures += 1;
        firstError ??= String(err.message);
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    loginsPerSecond: Number((latencies.length / seconds).toFixed(1)),
    p50ms: Math.round(percentile(latencies, 50) ?? 0),
    p99ms: Math.round(percentile(latencies, 99) ?? 0),
    errors: failures,
    total: latencies.length,
    firstError,
  };
}

/** Runs `loginLoops` in a worker thread; resolves with its result. */
export function loginFlood(options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: options });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`login worker exited with ${code}`)));
  });
}

if (!isMainThread && workerData?.issuer) parentPort.postMessage(await loginLoops(workerData));
