import * as oidc from 'openid-client';

import type { Db } from '../../db/client.js';
import type { ClientSecretHasher } from '../../clients/client-secrets.js';
import { keyedHash } from '../../hash.js';
import { loadServerSecrets } from '../../oidc/keys.js';
import { ROUTES } from '../../oidc/configuration.js';
import { CONSOLE_CLIENT_ID } from '../clients.js';

export const CONSOLE_PATHS = { callback: '/admin/callback', signedOut: '/admin/signed-out' } as const;

/** What the console keeps between sending the browser to /auth and the callback. */
export interface LoginState {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

/**
 * The admin console is an ordinary OIDC client of its own issuer: authorization code + PKCE,
 * client_secret_basic, driven by openid-client. Its client row is (re)registered at start with
 * a secret derived from a server secret, so every instance on the database knows it without
 * storing it. The browser goes to the public issuer URL; the code exchange goes to the server
 * itself (`internalUrl`), which need not be able to resolve its own public name.
 */
export interface ConsoleOidcClient {
  start(): Promise<{ url: URL; state: LoginState }>;
  finish(callbackQuery: string, state: LoginState): Promise<{ sub: string; accessToken: string }>;
  endSessionUrl(): URL;
}

async function consoleSecret(db: Db): Promise<string> {
  const [key] = await loadServerSecrets(db, 'console-client');
  return keyedHash(key!, CONSOLE_CLIENT_ID);
}

export async function registerConsoleClient(db: Db, issuer: string, hasher: ClientSecretHasher): Promise<string> {
  const secret = await consoleSecret(db);
  const metadata = JSON.stringify({
    client_name: 'Tessera admin console',
    redirect_uris: [`${issuer}${CONSOLE_PATHS.callback}`],
    post_logout_redirect_uris: [`${issuer}${CONSOLE_PATHS.signedOut}`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const data = { metadata, secretHash: hasher.hash(secret), disabled: false };
  try {
    await db.client.upsert({ where: { clientId: CONSOLE_CLIENT_ID }, create: { clientId: CONSOLE_CLIENT_ID, ...data }, update: data });
  } catch (err) {
    // Another instance starting at the same moment registered it first.
    if (!(await db.client.findUnique({ where: { clientId: CONSOLE_CLIENT_ID } }))) throw err;
  }
  return secret;
}

export function createConsoleOidcClient(deps: { issuer: string; secret: string; signingAlg: string; internalUrl: () => string }): ConsoleOidcClient {
  const { issuer } = deps;
  const config = new oidc.Configuration(
    {
      issuer,
      authorization_endpoint: `${issuer}${ROUTES.authorization}`,
      token_endpoint: `${issuer}${ROUTES.token}`,
      end_session_endpoint: `${issuer}${ROUTES.end_session}`,
      jwks_uri: `${issuer}${ROUTES.jwks}`,
    },
    CONSOLE_CLIENT_ID,
    // ID tokens are signed with the issuer's configured algorithm (openid-client expects RS256).
    { id_token_signed_response_alg: deps.signingAlg },
    oidc.ClientSecretBasic(deps.secret),
  );
  // Server-to-itself requests go to the listening address (plain HTTP on loopback is fine).
  config[oidc.customFetch] = (url, options) => fetch(url.startsWith(issuer) ? `${deps.internalUrl()}${url.slice(issuer.length)}` : url, options as RequestInit);
  oidc.allowInsecureRequests(config);
  const redirectUri = `${issuer}${CONSOLE_PATHS.callback}`;

  return {
    async start() {
      const state: LoginState = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(state.verifier),
        code_challenge_method: 'S256',
        state: state.state,
        nonce: state.nonce,
      });
      return { url, state };
    },

    async finish(callbackQuery, state) {
      // The callback as registered (behind a proxy the request URL may say otherwise).
      const callbackUrl = new URL(`${redirectUri}${callbackQuery}`);
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: state.verifier,
        expectedState: state.state,
        expectedNonce: state.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims?.sub) throw new Error('no ID token subject');
      return { sub: claims.sub, accessToken: tokens.access_token };
    },

    endSessionUrl() {
      return oidc.buildEndSessionUrl(config, { client_id: CONSOLE_CLIENT_ID, post_logout_redirect_uri: `${issuer}${CONSOLE_PATHS.signedOut}` });
    },
  };
}
