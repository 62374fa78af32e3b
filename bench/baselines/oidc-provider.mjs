// Baseline: bare oidc-provider 9 with its in-memory adapter, one static confidential client,
// introspection and client_credentials enabled, and one JWT resource server (ES256).
// What Tessera is measured against: the library on its own, without durable storage.
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'baseline', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['baseline-cookie-key-baseline-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
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
provider.listen(port, '127.0.0.1', () => console.log('baseline listening'));
