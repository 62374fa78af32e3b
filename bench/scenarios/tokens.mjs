// Token endpoints of Tessera on a seeded database: introspection (opaque client_credentials
// token, JWT, unknown, seeded refresh tokens, seeded user access tokens), client_credentials
// issuance, userinfo, and refresh-token rotation. Seeded tokens are cycled through (random rows
// among the 100k), except in rotation, where each is sent once.
import { FORM, basic, form, measure, measureConsuming, pooled, post } from '../lib/load.mjs';

export async function tokenScenarios(ctx, kind, record) {
  const { server, rsAuth, seeded } = ctx;
  const headers = { 'content-type': FORM, authorization: rsAuth };
  const introspection = `${server.url}/token/introspection`;
  const { access_token: opaque } = await post(`${server.url}/token`, { grant_type: 'client_credentials' }, rsAuth);
  const { access_token: jwt } = await post(`${server.url}/token`, { grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }, rsAuth);
  for (const [name, token] of [['introspection: opaque AT', opaque], ['introspection: JWT AT', jwt], ['introspection: unknown token', 'x'.repeat(43)]]) {
    const sample = await post(introspection, { token }, rsAuth);
    if (sample.active !== !name.includes('unknown')) throw new Error(`${name}: unexpected sample ${JSON.stringify(sample)}`);
    record(name, kind, 'introspection: opaque AT', await measure({ url: introspection, headers, body: form({ token }) }));
  }

  const introspect = (params) => ({ method: 'POST', path: '/token/introspection', headers, body: form(params) });
  // 2,000 seeded refresh tokens are set aside for introspection; rotation consumes the rest.
  const refreshForIntrospection = seeded.refreshPool.splice(0, 2000);
  record('introspection: refresh token (seeded)', kind, 'introspection: opaque AT', await measure({
    url: server.url,
    requests: pooled(refreshForIntrospection, ({ token }) => introspect({ token, token_type_hint: 'refresh_token' })),
  }));
  const userAt = await measure({ url: server.url, requests: pooled(seeded.accessPool, ({ token }) => introspect({ token })) });
  record('introspection: user AT (seeded)', kind, 'introspection: opaque AT', userAt);

  record('token: client_credentials opaque', kind, 'token: client_credentials opaque',
    await measure({ url: `${server.url}/token`, headers, body: form({ grant_type: 'client_credentials' }) }));
  record('token: client_credentials JWT ES256', kind, 'token: client_credentials JWT ES256',
    await measure({ url: `${server.url}/token`, headers, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }));

  record('userinfo: GET /me', kind, 'userinfo: GET /me', await measure({
    url: server.url,
    requests: pooled(seeded.accessPool, ({ token }) => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } })),
  }));

  const authOf = new Map();
  const rotate = ({ token, clientId }) => {
    if (!authOf.has(clientId)) authOf.set(clientId, basic(clientId, ctx.client(clientId).clientSecret));
    return { method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: authOf.get(clientId) }, body: form({ grant_type: 'refresh_token', refresh_token: token }) };
  };
  const rotation = await measureConsuming({ url: server.url, build: rotate, obtain: (n) => {
    const pool = seeded.refreshPool.splice(0, n);
    if (pool.length === 0) throw new Error('the seeded refresh tokens are used up: lower BENCH_DURATION');
    return pool;
  },
  giveBack: (unused) => seeded.refreshPool.unshift(...unused), guessPerSecond: 300 });
  record('token: refresh_token rotation', kind, 'token: refresh_token rotation', rotation);
  return { userAtIntrospection: userAt };
}
