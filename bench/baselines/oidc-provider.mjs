// Baseline: bare oidc-provider 9 with its in-memory adapter, one static confidential client,
// introspection and client_credentials enabled, and one JWT resource server (ES256).
// What Tessera is measured against: the library on its own, without durable storage.
//
// For refresh-token rotation and userinfo it also has a web client configured like Tessera's
// (rotating refresh tokens on every use, ID tokens ES256, openid + email claims) and a
// benchmark-only route, POST /bench/mint?kind=refresh|access&n=…, that issues session-bound
// tokens through the library's own models (Grant, Session, RefreshToken/AccessToken), as a
// completed sign-in would leave them; it answers the token values (loopback only).
// The memory adapter's store is the library's own LRU, made large enough for those pools:
// at its default size of 1,000 entries it would evict tokens before they are used.
import { randomBytes } from 'node:crypto';

import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'baseline', alg: 'ES256', use: 'sig' };

const store = new LRU({ maxSize: 5_000_000 });
class LargeMemoryAdapter extends MemoryAdapter {
  constructor(model) {
    super(model, store);
  }
}

const WEB_CLIENT = { client_id: 'bench-web', client_secret: 'bench-web-secret-bench-web-secret-bench' };

const provider = new Provider(issuer, {
  adapter: LargeMemoryAdapter,
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  }, {
    ...WEB_CLIENT,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1:9/callback'],
  }],
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, email: `${sub}@bench.example`, email_verified: false }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'offline_access', 'email'],
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: 300, IdToken: 3600, RefreshToken: 1_209_600, Session: 1_209_600, Grant: 1_209_600, AuthorizationCode: 60 },
  jwks: { keys: [jwk] },
  cookies: { keys: ['baseline-cookie-key-baseline-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        audience: resource,
        scope: 'read',
        accessTokenTTL: 300,
        accessTokenFormat: resource.includes('jwt') ? 'jwt' : 'opaque',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
});

/** A session-bound token of the web client, as the code flow leaves it (scope "openid email"). */
async function mint(kind, i) {
  const clientId = WEB_CLIENT.client_id;
  const accountId = `bench-user-${i % 10_000}`;
  const now = Math.floor(Date.now() / 1000);
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope('openid email');
  const grantId = await grant.save();
  const session = new provider.Session({
    accountId, loginTs: now, authorizations: { [clientId]: { grantId, sid: randomBytes(32).toString('base64url') } },
  });
  await session.save(1_209_600);
  const common = { accountId, clientId, grantId, sessionUid: session.uid, expiresWithSession: true, gty: 'authorization_code', scope: 'openid email' };
  const token = kind === 'refresh'
    ? new provider.RefreshToken({ ...common, authTime: now, rotations: 0, iiat: now })
    : new provider.AccessToken(common);
  return token.save();
}

provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || ctx.path !== '/bench/mint') return next();
  const n = Math.min(Number(ctx.query.n ?? 1), 200_000);
  const tokens = [];
  for (let i = 0; i < n; i += 1) tokens.push(await mint(ctx.query.kind, i));
  ctx.body = { tokens };
});

provider.listen(port, '127.0.0.1', () => console.log('baseline listening'));
// Ends normally on SIGTERM, so that `node --cpu-prof` (bench/profile.mjs bare) writes its profile.
process.on('SIGTERM', () => process.exit(0));
