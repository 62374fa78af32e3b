// Token endpoints of Tessera on a seeded database, each measured interleaved with its bare
// oidc-provider baseline (`compare`): introspection (opaque client_credentials token, JWT,
// unknown, seeded refresh tokens, seeded user access tokens), client_credentials issuance,
// userinfo, and refresh-token rotation. Seeded tokens are cycled through (random rows among the
// 110k), except in rotation, where each is sent once.
import { FORM, basic, consumingShape, form, pooled, post, shape } from '../lib/load.mjs';

export async function tokenScenarios(ctx, compare) {
  const { server, rsAuth, seeded } = ctx;
  const headers = { 'content-type': FORM, authorization: rsAuth };
  const introspection = `${server.url}/token/introspection`;
  const INTROSPECTION = 'introspection: opaque AT';
  const { access_token: opaque } = await post(`${server.url}/token`, { grant_type: 'client_credentials' }, rsAuth);
  const { access_token: jwt } = await post(`${server.url}/token`, { grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }, rsAuth);
  for (const [name, token] of [['introspection: opaque AT', opaque], ['introspection: JWT AT', jwt], ['introspection: unknown token', 'x'.repeat(43)]]) {
    const sample = await post(introspection, { token }, rsAuth);
    if (sample.active !== !name.includes('unknown')) throw new Error(`${name}: unexpected sample ${JSON.stringify(sample)}`);
    await compare(name, INTROSPECTION, shape({ url: introspection, headers, body: form({ token }) }));
  }

  const introspect = (params) => ({ method: 'POST', path: '/token/introspection', headers, body: form(params) });
  // 2,000 seeded refresh tokens are set aside for introspection; rotation consumes the rest.
  const refreshForIntrospection = seeded.refreshPool.splice(0, 2000);
  await compare('introspection: refresh token (seeded)', INTROSPECTION, shape({
    url: server.url,
    requests: pooled(refreshForIntrospection, ({ token }) => introspect({ token, token_type_hint: 'refresh_token' })),
  }));
  const userAt = await compare('introspection: user AT (seeded)', INTROSPECTION,
    shape({ url: server.url, requests: pooled(seeded.accessPool, ({ token }) => introspect({ token })) }));

  await compare('token: client_credentials opaque', 'token: client_credentials opaque',
    shape({ url: `${server.url}/token`, headers, body: form({ grant_type: 'client_credentials' }) }));
  await compare('token: client_credentials JWT ES256', 'token: client_credentials JWT ES256',
    shape({ url: `${server.url}/token`, headers, body: form({ grant_type: 'client_credentials', resource: 'https://jwt.bench', scope: 'read' }) }));

  await compare('userinfo: GET /me', 'userinfo: GET /me', shape({
    url: server.url,
    requests: pooled(seeded.accessPool, ({ token }) => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } })),
  }));

  const authOf = new Map();
  const rotate = ({ token, clientId }) => {
    if (!authOf.has(clientId)) authOf.set(clientId, basic(clientId, ctx.client(clientId).clientSecret));
    return { method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: authOf.get(clientId) }, body: form({ grant_type: 'refresh_token', refresh_token: token }) };
  };
  await compare('token: refresh_token rotation', 'token: refresh_token rotation', consumingShape({
    url: server.url,
    build: rotate,
    obtain: (n) => {
      const pool = seeded.refreshPool.splice(0, n);
      if (pool.length === 0) throw new Error('the seeded refresh tokens are used up: lower BENCH_DURATION');
      return pool;
    },
    successor: ({ clientId }, json) => ({ clientId, token: json.refresh_token }),
    giveBack: (unused) => seeded.refreshPool.unshift(...unused),
    guessPerSecond: 1000,
  }));
  return { userAtIntrospection: userAt };
}
