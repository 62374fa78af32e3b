// The baselines (bench/baselines/): bare Koa, and bare oidc-provider with its memory adapter.
// Both processes run for the whole benchmark; each Tessera scenario is measured interleaved
// with the shape of its baseline here (A B A B A B), so both see the same machine load.
import { join } from 'node:path';

import { FORM, basic, consumingShape, form, pooled, post, shape } from '../lib/load.mjs';
import { freePort, root, startProcess } from '../lib/processes.mjs';

export const BASELINE_CLIENT = { id: 'bench', secret: 'bench-secret-bench-secret-bench-secret' };
const CC = BASELINE_CLIENT;
const WEB = { id: 'bench-web', secret: 'bench-web-secret-bench-web-secret-bench' };
export const BARE = 'bare oidc-provider (memory)';

async function mint(url, kind, n) {
  const tokens = [];
  while (tokens.length < n) {
    const res = await fetch(`${url}/bench/mint?kind=${kind}&n=${Math.min(10_000, n - tokens.length)}`, { method: 'POST' });
    if (!res.ok) throw new Error(`mint answered ${res.status}`);
    tokens.push(...(await res.json()).tokens);
  }
  return tokens;
}

/** Starts both baselines, checks a sample of each shape, and returns the shapes by scenario name. */
export async function startBaselines() {
  const koaPort = await freePort();
  const koa = await startProcess(join(root, 'bench/baselines/koa-hello.mjs'), { PORT: String(koaPort) }, 'baseline listening');
  const port = await freePort();
  const op = await startProcess(join(root, 'bench/baselines/oidc-provider.mjs'), { PORT: String(port) }, 'baseline listening');
  const url = `http://127.0.0.1:${port}`;
  const auth = basic(CC.id, CC.secret);
  const headers = { 'content-type': FORM, authorization: auth };
  const webAuth = basic(WEB.id, WEB.secret);

  // The client_credentials token introspected is issued once; the store keeps it.
  const { access_token: opaque } = await post(`${url}/token`, { grant_type: 'client_credentials' }, auth);
  if ((await post(`${url}/token/introspection`, { token: opaque }, auth)).active !== true) throw new Error('baseline introspection sample inactive');
  // Userinfo with session-bound user access tokens (a pool, cycled, as for Tessera).
  const userTokens = await mint(url, 'access', 2000);
  const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${userTokens[0]}` } });
  if (me.status !== 200) throw new Error(`baseline userinfo sample answered ${me.status}`);
  // Refresh-token rotation: every request sends a token never used before.
  const [sample] = await mint(url, 'refresh', 1);
  const rotated = await post(`${url}/token`, { grant_type: 'refresh_token', refresh_token: sample }, webAuth);
  if (!rotated.refresh_token || !rotated.id_token) throw new Error('baseline refresh sample did not rotate');

  return {
    koaHello: shape({ url: `http://127.0.0.1:${koaPort}/`, method: 'GET' }),
    shapes: {
      'introspection: opaque AT': shape({ url: `${url}/token/introspection`, headers, body: form({ token: opaque }) }),
      'token: client_credentials opaque': shape({ url: `${url}/token`, headers, body: form({ grant_type: 'client_credentials' }) }),
      'token: client_credentials JWT ES256': shape({ url: `${url}/token`, headers, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }),
      'userinfo: GET /me': shape({
        url,
        requests: pooled(userTokens, (token) => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } })),
      }),
      'token: refresh_token rotation': consumingShape({
        url,
        obtain: (n) => mint(url, 'refresh', n),
        successor: (_, json) => json.refresh_token,
        build: (token) => ({ method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: webAuth }, body: form({ grant_type: 'refresh_token', refresh_token: token }) }),
        guessPerSecond: 1500,
      }),
    },
    stop: async () => {
      await koa.stop();
      await op.stop();
    },
  };
}
