// The baselines, measured in the same run as Tessera: bare Koa, and bare oidc-provider with its
// memory adapter (bench/baselines/). Each `record`ed result is what Tessera's ratio divides by.
import { join } from 'node:path';

import { FORM, basic, form, measure, measureConsuming, pooled, post } from '../lib/load.mjs';
import { freePort, root, startProcess } from '../lib/processes.mjs';

const CC = { id: 'bench', secret: 'bench-secret-bench-secret-bench-secret' };
const WEB = { id: 'bench-web', secret: 'bench-web-secret-bench-web-secret-bench' };
export const MEMORY = 'memory (bare oidc-provider)';

async function mint(url, kind, n) {
  const tokens = [];
  while (tokens.length < n) {
    const res = await fetch(`${url}/bench/mint?kind=${kind}&n=${Math.min(10_000, n - tokens.length)}`, { method: 'POST' });
    if (!res.ok) throw new Error(`mint answered ${res.status}`);
    tokens.push(...(await res.json()).tokens);
  }
  return tokens;
}

export async function runBaselines(record) {
  const koaPort = await freePort();
  const koa = await startProcess(join(root, 'bench/baselines/koa-hello.mjs'), { PORT: String(koaPort) }, 'baseline listening');
  record('koa hello', 'none', null, await measure({ url: `http://127.0.0.1:${koaPort}/`, method: 'GET' }));
  await koa.stop();

  const port = await freePort();
  const op = await startProcess(join(root, 'bench/baselines/oidc-provider.mjs'), { PORT: String(port) }, 'baseline listening');
  try {
    const url = `http://127.0.0.1:${port}`;
    const auth = basic(CC.id, CC.secret);
    const headers = { 'content-type': FORM, authorization: auth };
    const { access_token: opaque } = await post(`${url}/token`, { grant_type: 'client_credentials' }, auth);
    record('introspection: opaque AT', MEMORY, null,
      await measure({ url: `${url}/token/introspection`, headers, body: form({ token: opaque }) }));
    record('token: client_credentials opaque', MEMORY, null,
      await measure({ url: `${url}/token`, headers, body: form({ grant_type: 'client_credentials' }) }));
    record('token: client_credentials JWT ES256', MEMORY, null,
      await measure({ url: `${url}/token`, headers, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }));

    // Userinfo with session-bound user access tokens (a pool, cycled, as for Tessera).
    const userTokens = await mint(url, 'access', 2000);
    const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${userTokens[0]}` } });
    if (me.status !== 200) throw new Error(`baseline userinfo sample answered ${me.status}`);
    record('userinfo: GET /me', MEMORY, null, await measure({
      url,
      requests: pooled(userTokens, (token) => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } })),
    }));

    // Refresh-token rotation: every request sends a token never used before.
    const webAuth = basic(WEB.id, WEB.secret);
    const rotate = (token) => ({ method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: webAuth }, body: form({ grant_type: 'refresh_token', refresh_token: token }) });
    const [sample] = await mint(url, 'refresh', 1);
    const rotated = await post(`${url}/token`, { grant_type: 'refresh_token', refresh_token: sample }, webAuth);
    if (!rotated.refresh_token || !rotated.id_token) throw new Error('baseline refresh sample did not rotate');
    record('token: refresh_token rotation', MEMORY, null,
      await measureConsuming({ url, build: rotate, obtain: (n) => mint(url, 'refresh', n), guessPerSecond: 1500 }));
  } finally {
    await op.stop();
  }
}
