// `npm run bench`: Tessera against baselines measured in the same run, on SQLite and PostgreSQL.
// Prints a table and writes bench/results/<timestamp>.json with machine information.
// Environment: BENCH_DURATION (s, default 8), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (50),
// BENCH_DATABASES (default "sqlite,postgresql"; PostgreSQL is skipped, and said so, if unreachable).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { DEFAULTS, FORM, basic, form, measure, post } from './lib/load.mjs';
import { freePort, freshDatabase, root, startProcess, startTessera, tessera } from './lib/processes.mjs';

const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgresql').split(',').map((s) => s.trim()).filter(Boolean);
const results = [];
const log = (...a) => console.error('[bench]', ...a);

function record(name, database, baseline, m) {
  results.push({ scenario: name, database, baseline, ...m });
  log(`${name} (${database}): ${m.requestsPerSecond} req/s, p50 ${m.p50ms} ms, p99 ${m.p99ms} ms, errors ${m.errors}`);
}

// ---- baselines ---------------------------------------------------------------------------------
async function baselines() {
  const koaPort = await freePort();
  const koa = await startProcess(join(root, 'bench/baselines/koa-hello.mjs'), { PORT: String(koaPort) }, 'baseline listening');
  record('koa hello', 'none', null, await measure({ url: `http://127.0.0.1:${koaPort}/`, method: 'GET' }));
  await koa.stop();

  const port = await freePort();
  const op = await startProcess(join(root, 'bench/baselines/oidc-provider.mjs'), { PORT: String(port) }, 'baseline listening');
  const url = `http://127.0.0.1:${port}`;
  const auth = basic('bench', 'bench-secret-bench-secret-bench-secret');
  const headers = { 'content-type': FORM, authorization: auth };
  // The memory adapter keeps ~1000 entries: issue the token right before measuring it.
  const { access_token: opaque } = await post(`${url}/token`, { grant_type: 'client_credentials' }, auth);
  record('introspection: opaque AT', 'memory (bare oidc-provider)', null,
    await measure({ url: `${url}/token/introspection`, headers, body: form({ token: opaque }) }));
  record('token: client_credentials opaque', 'memory (bare oidc-provider)', null,
    await measure({ url: `${url}/token`, headers, body: form({ grant_type: 'client_credentials' }) }));
  record('token: client_credentials JWT ES256', 'memory (bare oidc-provider)', null,
    await measure({ url: `${url}/token`, headers, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }));
  await op.stop();
}

// ---- Tessera -----------------------------------------------------------------------------------
async function benchTessera(kind) {
  const database = await freshDatabase(kind);
  if (!database) {
    log(`${kind}: not reachable, skipped`);
    return;
  }
  const server = await startTessera(database);
  try {
    tessera(server, ['api', 'create'], JSON.stringify({ identifier: 'https://jwt.bench', scopes: ['read'], accessTokenFormat: 'jwt' }));
    const client = tessera(server, ['client', 'create'], JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }));
    const auth = basic(client.client_id, client.client_secret);
    const headers = { 'content-type': FORM, authorization: auth };
    const introspection = `${server.url}/token/introspection`;
    const { access_token: opaque } = await post(`${server.url}/token`, { grant_type: 'client_credentials' }, auth);
    const { access_token: jwt } = await post(`${server.url}/token`, { grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }, auth);
    for (const [name, token] of [['introspection: opaque AT', opaque], ['introspection: JWT AT', jwt], ['introspection: unknown token', 'x'.repeat(43)]]) {
      const sample = await post(introspection, { token }, auth);
      if (sample.active !== !name.includes('unknown')) throw new Error(`${name}: unexpected sample ${JSON.stringify(sample)}`);
      record(name, kind, 'introspection: opaque AT', await measure({ url: introspection, headers, body: form({ token }) }));
    }
    record('token: client_credentials opaque', kind, 'token: client_credentials opaque',
      await measure({ url: `${server.url}/token`, headers, body: form({ grant_type: 'client_credentials' }) }));
    record('token: client_credentials JWT ES256', kind, 'token: client_credentials JWT ES256',
      await measure({ url: `${server.url}/token`, headers, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }));
  } finally {
    await server.stop();
    await database.drop();
  }
}

await baselines();
for (const kind of databases) await benchTessera(kind);

// ---- report ------------------------------------------------------------------------------------
const baseline = (name) => results.find((r) => r.scenario === name && r.database.startsWith('memory'));
const koa = results.find((r) => r.scenario === 'koa hello');
for (const r of results) {
  const b = r.baseline ? baseline(r.baseline) : null;
  r.ratioToBaseline = b ? Number((r.requestsPerSecond / b.requestsPerSecond).toFixed(2)) : null;
  r.ratioToKoa = koa && r !== koa ? Number((r.requestsPerSecond / koa.requestsPerSecond).toFixed(3)) : null;
}
const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${pad('scenario', 38)}${pad('database', 30)}${pad('req/s', 9)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}ratio to bare oidc-provider`);
for (const r of results) {
  console.log(`${pad(r.scenario, 38)}${pad(r.database, 30)}${pad(r.requestsPerSecond, 9)}${pad(r.p50ms, 8)}${pad(r.p99ms, 8)}${pad(r.errors, 8)}${r.ratioToBaseline === null ? '—' : `${r.ratioToBaseline}×`}`);
}
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
};
const out = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, settings: DEFAULTS, results }, null, 2));
console.log(`\nwritten ${out}`);
