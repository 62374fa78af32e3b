// Starts the processes a benchmark measures (Tessera from dist/, a bare baseline) on loopback
// ports, and runs the tessera CLI against them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const postgresAdminUrl = process.env.TESSERA_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Spawns `node [nodeArgs] <script>` and resolves once it prints `readyMarker` (or `readyUrl` answers 200). */
export async function startProcess(script, env, readyMarker, readyUrl, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      if (output.includes(readyMarker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
    if (readyUrl) {
      const poll = async () => {
        const ok = await fetch(readyUrl).then((r) => r.ok, () => false);
        if (ok) {
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode === null) setTimeout(poll, 100);
      };
      void poll();
    }
  });
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  return {
    pid: child.pid,
    output: () => `${output}${exited ? `\n[exited: code ${exited.code}, signal ${exited.signal}]` : ''}`,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

async function postgresReachable() {
  const c = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** A fresh database of the kind: a temp SQLite file, or a new PostgreSQL database. null if unavailable. */
export async function freshDatabase(kind) {
  const dir = mkdtempSync(join(tmpdir(), `tessera-bench-${kind}-`));
  if (kind === 'sqlite') {
    return { url: `file:${join(dir, 'tessera.db')}`, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!(await postgresReachable())) return null;
  const name = `tessera_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dir,
    drop: async () => {
      const c = new pg.Client({ connectionString: postgresAdminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts Tessera (dist/main.js) on a database; request logs off so they do not dominate.
 * `exited()` says whether the process has ended; `restart()` starts it again with the same
 * environment (same port and database), for when something outside the benchmark stopped it.
 */
export async function startTessera(database, extraEnv = {}, nodeArgs = []) {
  const port = await freePort();
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const start = () => startProcess(join(root, 'dist/main.js'), env, '"event":"listening"', `${env.ISSUER}/readyz`, nodeArgs);
  let proc = await start();
  return {
    url: env.ISSUER,
    env,
    get pid() { return proc.pid; },
    output: () => proc.output(),
    exited: () => proc.output().includes('\n[exited: '),
    stop: () => proc.stop(),
    async restart() {
      await proc.stop();
      proc = await start();
    },
  };
}

/** Runs the tessera CLI with the server's environment; returns parsed JSON. */
export function tessera(server, args, stdin = '') {
  const r = spawnSync(process.execPath, [join(root, 'bin/tessera.js'), ...args], {
    env: { PATH: process.env.PATH, ...server.env },
    input: stdin,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tessera ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
