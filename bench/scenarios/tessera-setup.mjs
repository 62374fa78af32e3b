// Tessera on a fresh database: the CLI makes a JWT API, a resource-server client (it
// introspects), one web client and one user as templates; then the seeder writes 10k users and
// 110k live rows (bench/lib/seed.mjs). Samples of every seeded kind are checked before anything
// is measured.
import { randomBytes } from 'node:crypto';

import { Browser, codeFlow, webClientMetadata } from '../lib/flow.mjs';
import { basic, post } from '../lib/load.mjs';
import { tessera } from '../lib/processes.mjs';
import { seed } from '../lib/seed.mjs';

export async function setUpTessera(server, kind, log) {
  tessera(server, ['api', 'create'], JSON.stringify({ identifier: 'https://jwt.bench', scopes: ['read'], accessTokenFormat: 'jwt' }));
  const rs = tessera(server, ['client', 'create'], JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }));
  const web = tessera(server, ['client', 'create'], JSON.stringify(webClientMetadata('bench app 1')));
  const password = randomBytes(18).toString('base64url'); // every seeded user's; never printed
  tessera(server, ['user', 'create', '--email', 'bench-template@bench.example', '--password-stdin'], `${password}\n`);

  const seeded = await seed(kind, server.env.DATABASE_URL, { email: 'bench-template@bench.example', clientId: web.client_id });
  log(`${kind}: seeded ${seeded.counts.users} users, ${seeded.counts.liveRows} live rows in ${seeded.seconds} s`);
  const client = (clientId) => ({ clientId, clientSecret: web.client_secret }); // seeded clients share the template's secret
  const ctx = {
    server,
    password,
    seeded,
    rsAuth: basic(rs.client_id, rs.client_secret),
    rs: { clientId: rs.client_id, clientSecret: rs.client_secret },
    appClient: client(web.client_id),
    client,
  };

  // Samples: a seeded refresh token and access token are active, userinfo answers, a seeded
  // refresh token rotates, and a seeded user signs in with the shared password.
  const introspection = `${server.url}/token/introspection`;
  const [rt] = seeded.refreshPool;
  const [at] = seeded.accessPool;
  const rtStatus = await post(introspection, { token: rt.token, token_type_hint: 'refresh_token' }, ctx.rsAuth);
  const atStatus = await post(introspection, { token: at.token }, ctx.rsAuth);
  if (rtStatus.active !== true || rtStatus.token_type !== 'refresh_token') throw new Error('seeded refresh token is not active');
  if (atStatus.active !== true || !atStatus.sub) throw new Error('seeded access token is not active');
  const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${at.token}` } });
  if (me.status !== 200 || !(await me.json()).email) throw new Error(`userinfo with a seeded token answered ${me.status}`);
  const sample = seeded.refreshPool.pop();
  const rotated = await post(`${server.url}/token`, { grant_type: 'refresh_token', refresh_token: sample.token }, basic(sample.clientId, web.client_secret));
  if (!rotated.refresh_token || !rotated.id_token) throw new Error('seeded refresh token did not rotate');
  const user = seeded.users[seeded.users.length - 1];
  const { passwordPages } = await codeFlow(server.url, new Browser(), ctx.appClient, { email: user.email, password });
  if (passwordPages !== 1) throw new Error('seeded user did not sign in');
  return ctx;
}

