#!/usr/bin/env node
// Reproduces the seed end to end with real processes, then shows the fix:
//
//   Tessera (node dist/main.js, fresh SQLite database in a temporary directory)
//   two copies of api.mjs: REVOCATION_FEED=off (the seed's API) and REVOCATION_FEED=on (one added line)
//   a user signing in to an SPA client through Tessera's own login and consent pages (code + PKCE),
//   calling both APIs with the JWT access token, logging out at /logout, and calling both again.
//
// Expected: 200 and 200 before logout; after logout 200 from the API without the line (the token's
// signature is still valid) and 401 from the API with it. Exit code 0 when that is what happened,
// 1 otherwise. Every process and the temporary directory are removed in all cases.
//
// Run from the repository root after `npm install`:  node examples/spa-api/demo.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as oidc from 'openid-client';
import { CookieJar } from 'tough-cookie';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

const USER = { email: 'alice@example.com', password: 'correct horse battery staple' };
const API_IDENTIFIER = 'https://api.example.com';
// The SPA's address. Nothing needs to listen there: the demo's "browser" stops at the redirect, as
// the SPA's router would, and hands the URL to openid-client.
const SPA = 'http://127.0.0.1:5173';
const REDIRECT_URI = `${SPA}/callback`;
const POST_LOGOUT_URI = `${SPA}/`;
/** How long the API with the feed may take to refuse the token after the logout. */
const REVOCATION_DEADLINE_MS = 5000;

const processes = [];
let workDir;

const log = (line = '') => console.log(line);
const step = (n, text) => log(`${String(n).padStart(2)}. ${text}`);

async function main() {
  if (!existsSync(join(root, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm install` (or `npm run build`) first');

  log('Tessera: does an old JWT access token still work at the API after logout?');
  log();

  // 1. Tessera, on a fresh database.
  workDir = mkdtempSync(join(tmpdir(), 'tessera-spa-api-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const tesseraEnv = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATABASE_URL: `file:${join(workDir, 'tessera.db')}`,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
  };
  const tessera = start('tessera', [join(root, 'dist/main.js')], tesseraEnv, workDir);
  await tessera.waitFor(/"event":"listening"/, 30_000);
  step(1, `Tessera is listening on ${issuer} (SQLite database in ${workDir})`);

  // 2. Registrations, with the CLI, as an operator would.
  await tesseraCli(tesseraEnv, ['user', 'create', '--email', USER.email, '--password-stdin'], `${USER.password}\n`);
  await tesseraCli(tesseraEnv, ['api', 'create'], { identifier: API_IDENTIFIER, scopes: ['read'] });
  const spa = await tesseraCli(tesseraEnv, ['client', 'create'], {
    client_name: 'Demo SPA',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [POST_LOGOUT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
  const receiver = await tesseraCli(tesseraEnv, ['client', 'create'], {
    client_name: 'API revocation feed',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'ssf.manage ssf.read',
  });
  step(2, 'Registered with ./bin/tessera.js:');
  log(`      user      ${USER.email}`);
  log(`      API       ${API_IDENTIFIER} (scope read; JWT access tokens)`);
  log(`      SPA       client ${spa.client_id} (public, code + PKCE, redirect ${REDIRECT_URI})`);
  log(`      receiver  client ${receiver.client_id} ("API revocation feed", scope ssf.manage ssf.read)`);

  // 3. The API twice: as in the seed, and with the one added line.
  const apiEnv = { TESSERA_ISSUER: issuer, API_AUDIENCE: API_IDENTIFIER, PORT: '0', HOST: '127.0.0.1' };
  const [seedApi, fixedApi] = await Promise.all([
    startApi('api (feed off)', { ...apiEnv, REVOCATION_FEED: 'off' }),
    startApi('api (feed on)', { ...apiEnv, REVOCATION_FEED: 'on', FEED_CLIENT_ID: receiver.client_id, FEED_CLIENT_SECRET: receiver.client_secret }),
  ]);
  step(3, 'Started examples/spa-api/api.mjs twice:');
  log(`      without the line  REVOCATION_FEED=off  ${seedApi.url}`);
  log(`      with the line     REVOCATION_FEED=on   ${fixedApi.url}  (feed ready: SSF stream open)`);

  // 4. The user signs in to the SPA through Tessera's pages.
  const config = await oidc.discovery(new URL(issuer), spa.client_id, { redirect_uris: [REDIRECT_URI] }, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const browser = new Browser();
  const tokens = await signIn(config, browser);
  const header = decodePart(tokens.access_token, 0);
  const claims = decodePart(tokens.access_token, 1);
  step(4, `Signed in as ${USER.email} on Tessera's login and consent pages (authorization code + PKCE, resource=${API_IDENTIFIER})`);
  log(`      access token: ${header.typ ?? 'JWT'} ${header.alg}, aud ${JSON.stringify(claims.aud)}, scope "${claims.scope}", sid ${claims.sid}, expires in ${claims.exp - Math.floor(Date.now() / 1000)} s`);

  // 5. Both APIs accept it.
  const before = { off: await callApi(seedApi, tokens.access_token), on: await callApi(fixedApi, tokens.access_token) };
  step(5, 'GET /api/data with the token, before logout:');
  log(`      without the line  → ${show(before.off)}`);
  log(`      with the line     → ${show(before.on)}`);

  // 6. Logout through the real /logout page: the confirm form, "Sign out".
  const loggedOut = await logOut(config, browser, tokens.id_token);
  const loggedOutAt = Date.now();
  step(6, `Logged out at ${issuer}/logout ("Sign out" confirmed) → ${loggedOut.status}, back to ${loggedOut.location}`);

  // 7. The same token again. The feed learns of the logout from its SSF stream within moments: wait
  //    for that (bounded), then ask the API without the line.
  let afterOn = await callApi(fixedApi, tokens.access_token);
  while (afterOn.status === 200 && Date.now() - loggedOutAt < REVOCATION_DEADLINE_MS) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    afterOn = await callApi(fixedApi, tokens.access_token);
  }
  const tookMs = Date.now() - loggedOutAt;
  const afterOff = await callApi(seedApi, tokens.access_token);
  step(7, 'GET /api/data with the same token, after logout:');
  log(`      without the line  → ${show(afterOff)}${afterOff.status === 200 ? '   ← the seed\'s bug: the signature is still valid' : ''}`);
  log(`      with the line     → ${show(afterOn)}${afterOn.status === 401 ? `   ← refused ${tookMs} ms after the logout` : `   (after waiting ${tookMs} ms)`}`);

  const expected = before.off.status === 200 && before.on.status === 200 && afterOff.status === 200 && afterOn.status === 401;
  log();
  if (expected) {
    log('RESULT: as expected. Without the line the API serves a logged-out user\'s token until it expires;');
    log('        with `isRevoked: feed.isRevoked` it refuses it as soon as Tessera records the logout.');
    return 0;
  }
  log('RESULT: NOT as expected (wanted 200/200 before logout, then 200 without the line and 401 with it).');
  dumpOutputs();
  return 1;
}

// ---------------------------------------------------------------------------------------------
// The user's browser: a cookie jar, manual redirects, and the form posts of Tessera's pages.

class Browser {
  jar = new CookieJar();

  async request(url, form) {
    const headers = { accept: 'text/html' };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const setCookie of res.headers.getSetCookie()) await this.jar.setCookie(setCookie, url, { ignoreError: true });
    return res;
  }

  /** Follows redirects until a page answers ({ url, res }) or a redirect heads to the SPA ({ url, res: null }). */
  async follow(url, form) {
    let res = await this.request(url, form);
    for (let hops = 0; hops < 20; hops += 1) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url, res };
      url = new URL(location, url).href;
      if (url.startsWith(SPA)) return { url, res: null };
      res = await this.request(url);
    }
    throw new Error('too many redirects');
  }
}

async function signIn(config, browser) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid read',
    resource: API_IDENTIFIER,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  let page = await browser.follow(authorizationUrl.href);
  // The login page, then the consent page; each answered by posting its form.
  for (let i = 0; i < 4 && page.res; i += 1) {
    const html = await page.res.text();
    if (page.res.status >= 400) throw new Error(`Tessera answered ${page.res.status} on ${page.url}: ${html.slice(0, 300)}`);
    if (html.includes('name="password"')) {
      const action = new URL(formAction(html, /\/login$/), page.url).href;
      page = await browser.follow(action, { csrf: hiddenInput(html, 'csrf'), email: USER.email, password: USER.password });
    } else if (/\/confirm"/.test(html)) {
      const action = new URL(formAction(html, /\/confirm$/), page.url).href;
      page = await browser.follow(action, { csrf: hiddenInput(html, 'csrf') });
    } else {
      throw new Error(`unexpected page at ${page.url}:\n${html.slice(0, 600)}`);
    }
  }
  if (page.res) throw new Error('the sign-in did not come back to the SPA');
  return oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: state });
}

async function logOut(config, browser, idToken) {
  const url = oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI }).href;
  const page = await browser.request(url);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the logout page answered ${page.status}: ${html.slice(0, 300)}`);
  const form = { xsrf: hiddenInput(html, 'xsrf'), logout: 'yes' };
  if (/name="csrf"/.test(html)) form.csrf = hiddenInput(html, 'csrf');
  const res = await browser.request(new URL(formAction(html, /\/logout\/confirm$/), url).href, form);
  await res.arrayBuffer();
  if (res.status < 300 || res.status >= 400) throw new Error(`the logout confirmation answered ${res.status}`);
  return { status: res.status, location: res.headers.get('location') };
}

function hiddenInput(html, name) {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html)
    ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  if (!match) throw new Error(`no hidden input "${name}" in page:\n${html.slice(0, 600)}`);
  return unescapeHtml(match[1]);
}

function formAction(html, pattern) {
  for (const m of html.matchAll(/<form[^>]*action="([^"]*)"/g)) {
    const action = unescapeHtml(m[1]);
    if (pattern.test(action)) return action;
  }
  throw new Error(`no form posting to ${pattern} in page:\n${html.slice(0, 600)}`);
}

function unescapeHtml(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const decodePart = (jwt, index) => JSON.parse(Buffer.from(jwt.split('.')[index], 'base64url').toString());

// ---------------------------------------------------------------------------------------------
// The APIs.

async function startApi(name, env) {
  const proc = start(name, [join(here, 'api.mjs')], env, root);
  const [, url] = await proc.waitFor(/api listening on (http:\/\/\S+)/, 40_000);
  return { name, url, proc };
}

async function callApi(api, token) {
  const res = await fetch(`${api.url}/api/data`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text };
}

const show = (answer) => `${answer.status} ${answer.body.length > 110 ? `${answer.body.slice(0, 107)}...` : answer.body}`;

// ---------------------------------------------------------------------------------------------
// Processes, the CLI, ports, cleanup.

/** Starts `node <args>`, tracked so that cleanup() stops it whatever happens. */
function start(name, args, env, cwd, { stdin } = {}) {
  if (cleaning) throw new Error('the demo is stopping');
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) {
    child.stdin.on('error', () => {}); // a child that dies early closes its end: its exit is what counts
    child.stdin.end(stdin);
  }
  const entry = { name, child, output: '', exited: undefined };
  entry.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.stdout.on('data', (d) => (entry.output += d));
  child.stderr.on('data', (d) => (entry.output += d));
  /** Resolves with the match once `pattern` appears in the output; rejects if the process exits or time runs out. */
  entry.waitFor = (pattern, timeoutMs) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${name} did not become ready within ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      const match = pattern.exec(entry.output);
      if (match) finish(null, match);
    };
    function finish(error, match) {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      if (error) reject(error);
      else resolve(match);
    }
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void entry.exited.then((code) => finish(new Error(`${name} exited (${code}) before it was ready:\n${entry.output.slice(-2000)}`)));
    check();
  });
  processes.push(entry);
  return entry;
}

/** Runs ./bin/tessera.js with `input` on standard input; returns its JSON output. */
async function tesseraCli(env, args, input) {
  const cli = start(`tessera ${args.join(' ')}`, [join(root, 'bin/tessera.js'), ...args], env, workDir, {
    stdin: typeof input === 'string' ? input : JSON.stringify(input),
  });
  cli.cli = true;
  // cli.output mixes stdout and stderr (for error messages); the JSON result is on stdout alone.
  let stdout = '';
  cli.child.stdout.on('data', (d) => (stdout += d));
  const code = await cli.exited;
  if (code !== 0) throw new Error(`tessera ${args.join(' ')} failed (${code}): ${cli.output}`);
  return JSON.parse(stdout);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function dumpOutputs() {
  for (const p of processes.filter((p) => !p.cli)) {
    const tail = p.output.trim().split('\n').slice(-25).join('\n');
    console.error(`\n--- ${p.name} (last lines) ---\n${tail || '(no output)'}`);
  }
}

/**
 * Stops the APIs and any running CLI command first (the APIs' feeds remove their streams at Tessera),
 * then Tessera, and only then removes the directory: nothing is left that could write into it again.
 */
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    const stop = async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
      await p.exited;
      clearTimeout(timer);
    };
    await Promise.all(processes.filter((p) => p.name !== 'tessera').map(stop));
    await Promise.all(processes.filter((p) => p.name === 'tessera').map(stop));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the demo's processes and removing ${workDir ?? 'its directory'}`);
    void cleanup().finally(() => process.exit(1));
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  // An interruption makes the pending step fail: that is no failure worth reporting.
  if (!interrupted) {
    console.error(`\nDEMO FAILED: ${err instanceof Error ? err.message : String(err)}`);
    dumpOutputs();
  }
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
