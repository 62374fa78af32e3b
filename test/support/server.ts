import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createPostgresDatabase, testDatabaseKind } from './database.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Environment for a test server: fast argon2 so flows stay quick (production uses OWASP defaults). */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestServer {
  readonly issuer: string;
  readonly port: number;
  readonly dir: string;
  readonly databaseUrl: string;
  readonly env: Record<string, string>;
  /** Everything the server wrote to stdout/stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  cleanup(): Promise<void>;
}

/** Starts `node dist/main.js` (what `npm start` runs) on a fresh SQLite database. */
export async function startServer(extraEnv: Record<string, string> = {}, options: { dir?: string } = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-test-'));
  // A given PORT (a restart that must keep its issuer) is the port; else any free one.
  const port = extraEnv.PORT ? Number(extraEnv.PORT) : await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  // The database belongs to the directory: a restart on the same `dir` finds the same database.
  // With TESSERA_TEST_DB=postgresql each directory gets its own PostgreSQL database.
  const urlFile = join(dir, 'database-url');
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl: string;
  if (existsSync(urlFile)) {
    databaseUrl = readFileSync(urlFile, 'utf8');
  } else if (testDatabaseKind === 'postgresql') {
    const created = await createPostgresDatabase();
    databaseUrl = created.url;
    dropDatabase = created.drop;
    writeFileSync(urlFile, databaseUrl);
  } else {
    databaseUrl = `file:${join(dir, 'tessera.db')}`;
    writeFileSync(urlFile, databaseUrl);
  }
  const env: Record<string, string> = {
    ...FAST_ARGON2,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const child: ChildProcess = spawn(process.execPath, [join(root, 'dist/main.js')], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const check = (): void => {
      if (output.includes('"event":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  }

  return {
    issuer,
    port,
    dir,
    databaseUrl,
    env,
    output: () => output,
    stop,
    async cleanup() {
      await stop();
      if (!options.dir) {
        await dropDatabase?.();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: <T = Record<string, unknown>>() => T;
}

/** Runs the `tessera` command (bin/tessera.js) against a server's database. */
export async function cli(server: Pick<TestServer, 'env' | 'dir'>, args: string[], stdin = ''): Promise<CliResult> {
  const child = spawn(process.execPath, [join(root, 'bin/tessera.js'), ...args], {
    cwd: server.dir,
    env: { PATH: process.env.PATH ?? '', ...server.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}
