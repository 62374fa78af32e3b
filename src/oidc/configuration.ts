import { interactionPolicy, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';

import type { Config } from '../config.js';
import type { Views } from '../http/views.js';
import type { AdapterConstructor } from './adapter.js';

export interface ConfigurationDeps {
  readonly config: Config;
  readonly adapter: AdapterConstructor;
  readonly jwks: JWK[];
  readonly cookieKeys: string[];
  readonly findAccount: FindAccount;
  readonly resourceServer: (ctx: KoaContextWithOIDC, indicator: string) => Promise<import('oidc-provider').ResourceServer>;
  readonly recordJwt: (ctx: unknown, token: never, jwt: { payload: Record<string, unknown> }) => Promise<void>;
  readonly views: Views;
  readonly accountEmail: (accountId: string) => Promise<string | undefined>;
}

export const ROUTES = {
  authorization: '/auth',
  token: '/token',
  userinfo: '/me',
  jwks: '/jwks',
  end_session: '/logout',
  pushed_authorization_request: '/request',
  // Served by Tessera itself (src/protocol), advertised through `discovery` below.
  introspection: '/token/introspection',
  revocation: '/token/revocation',
} as const;

type TtlToken = { resourceServer?: { accessTokenTTL?: number } };

/**
 * oidc-provider's default login prompt only looks at `session.accountId`. When that account has
 * been disabled or deleted (findAccount answers nothing) the browser must sign in again, rather
 * than fall through to the consent checks without an account.
 */
function createInteractionPolicy(): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check(
    'account_unavailable',
    'End-User account is no longer available',
    (ctx) => (ctx.oidc.session?.accountId && !ctx.oidc.account
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT),
  ));
  return policy;
}

/**
 * oidc-provider configuration. Every choice that differs from the library default says why.
 */
export function createConfiguration(deps: ConfigurationDeps): Configuration {
  const { config, views } = deps;
  const ttl = config.ttl;
  return {
    adapter: deps.adapter as unknown as Configuration['adapter'],
    jwks: { keys: deps.jwks as never },
    cookies: {
      keys: deps.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: deps.findAccount,
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // `admin` is listed so that a client's RFC 7591 `scope` metadata may include it: only such clients
    // get tokens for the admin API (src/oidc/resource-indicators.ts). `ssf.manage` and `ssf.read`
    // (the CAEP interoperability profile's names) likewise make a client an SSF receiver
    // (src/ssf/receiver-auth.ts checks the client's registration, not only the token).
    scopes: ['openid', 'offline_access', 'email', 'admin', 'ssf.manage', 'ssf.read'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // The default (RS256) would require an RSA key; sign ID tokens with the configured key.
      id_token_signed_response_alg: config.signingAlg,
    },
    // client_secret_jwt needs the plaintext secret server-side, which Tessera never keeps.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    // Authorization code only (OAuth 2.0 Security BCP): no implicit or hybrid response types.
    responseTypes: ['code', 'none'],
    routes: {
      authorization: ROUTES.authorization,
      token: ROUTES.token,
      userinfo: ROUTES.userinfo,
      jwks: ROUTES.jwks,
      end_session: ROUTES.end_session,
      pushed_authorization_request: ROUTES.pushed_authorization_request,
    },
    discovery: {
      introspection_endpoint: `${config.issuer}${ROUTES.introspection}`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint: `${config.issuer}${ROUTES.revocation}`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    },
    features: {
      devInteractions: { enabled: false },
      // Tessera answers introspection and revocation itself: the built-in endpoints reject JWTs
      // (oidc-provider lib/shared/reject_structured_tokens.js).
      introspection: { enabled: false },
      revocation: { enabled: false },
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      // OIDC Back-Channel Logout 1.0: clients may register `backchannel_logout_uri` and
      // `backchannel_logout_session_required`, and discovery says `backchannel_logout_supported`
      // and `backchannel_logout_session_supported` (lib/actions/discovery.js). oidc-provider's
      // own sender is silenced (src/oidc/silence-backchannel.ts): Tessera sends for every
      // revocation that ends a session (src/backchannel/backchannel-worker.ts).
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, _form) => {
          const session = ctx.oidc.session;
          const action = ctx.oidc.urlFor('end_session_confirm');
          ctx.type = 'html';
          ctx.body = views.render('logout', {
            title: 'Sign out',
            action,
            everywhereAction: `${action}?everywhere=1`,
            xsrf: session?.state?.secret,
            clientName: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId,
            email: session?.accountId ? await deps.accountEmail(session.accountId) : undefined,
          });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = views.render('logout-success', {
            title: 'Signed out',
            clientName: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId,
            everywhere: false,
          });
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? undefined!,
        useGrantedResource: () => true,
        getResourceServerInfo: deps.resourceServer,
      },
    },
    formats: { customizers: { jwt: deps.recordJwt as never } },
    // Every client allowed the refresh_token grant gets one (not only with offline_access)…
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // …and it rotates on every use; reuse of a rotated one revokes the grant
    // (oidc-provider lib/actions/grants/refresh_token.js).
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: (_ctx, token) => (token as TtlToken).resourceServer?.accessTokenTTL ?? ttl.accessTokenSeconds,
      ClientCredentials: (_ctx, token) => (token as TtlToken).resourceServer?.accessTokenTTL ?? ttl.clientCredentialsSeconds,
      AuthorizationCode: ttl.authorizationCodeSeconds,
      IdToken: ttl.idTokenSeconds,
      RefreshToken: ttl.refreshTokenSeconds,
      Session: ttl.sessionSeconds,
      Interaction: ttl.interactionSeconds,
      Grant: ttl.grantSeconds,
    },
    interactions: { policy: createInteractionPolicy(), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out, error) => {
      ctx.type = 'html';
      const expired = (error as { name?: string }).name === 'SessionNotFound';
      ctx.body = views.render('error', {
        title: 'Error',
        heading: expired ? 'This sign-in link has expired' : 'Sign-in could not continue',
        message: expired
          ? 'Please go back to the application and start signing in again.'
          : `${out.error}: ${out.error_description ?? ''}`,
        requestId: ctx.get('x-request-id') || undefined,
      });
    },
  };
}
