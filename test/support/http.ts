import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { root } from './server.js';

/** A TCP port nobody listens on right now (for servers that must keep their issuer across restarts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** HTTP Basic per RFC 6749 §2.3.1 (client_id and secret form-urlencoded first). */
export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

/** A client_credentials grant at `${issuer}/token` with client_secret_basic. */
export async function clientCredentials(
  issuer: string,
  client: { clientId: string; clientSecret: string },
  params: Record<string, string> = {},
): Promise<TokenResponse> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js` with exactly `env` (plus PATH) and waits for it to exit (or kills it after `timeoutMs`). */
export async function runMain(env: Record<string, string>, cwd: string, timeoutMs = 20_000): Promise<ProcessResult> {
  const child = spawn(process.execPath, [join(root, 'dist/main.js')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}
