// The authorization code flow (PKCE) through Tessera's login and consent pages, as
// test/support/rp.ts drives it, and RP-initiated logout. No token value is ever printed.
import { createHash, randomBytes } from 'node:crypto';

import { Browser, formAction, hiddenInput } from './browser.mjs';
import { basic, post } from './load.mjs';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1:9/signed-out';

/** Client metadata for a confidential web client as the benchmark registers it. */
export const webClientMetadata = (name) => ({
  client_name: name,
  redirect_uris: [REDIRECT_URI],
  post_logout_redirect_uris: [POST_LOGOUT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
});

/**
 * One sign-in of `client` in `browser`: /auth, the login form (only when the browser has no
 * session), consent, then the code exchange. Returns the token response and the pages seen.
 */
export async function codeFlow(issuer, browser, client, user, { scope = 'openid email', resource } = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope,
    state: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  if (resource) params.set('resource', resource); // an API's token (RFC 8707), JWT or opaque by the API's choice
  let step = await browser.follow(`${issuer}/auth?${params}`, {}, REDIRECT_URI);
  let passwordPages = 0;
  for (let i = 0; i < 4 && step.res; i += 1) {
    const html = await step.res.text();
    if (step.res.status >= 400) throw new Error(`${new URL(step.url).pathname} answered ${step.res.status}`);
    if (html.includes('name="password"')) {
      passwordPages += 1;
      const action = new URL(formAction(html, /\/login$/), step.url).toString();
      step = await browser.follow(action, { form: { csrf: hiddenInput(html, 'csrf'), email: user.email, password: user.password } }, REDIRECT_URI);
    } else if (/\/confirm"/.test(html)) {
      const action = new URL(formAction(html, /\/confirm$/), step.url).toString();
      step = await browser.follow(action, { form: { csrf: hiddenInput(html, 'csrf') } }, REDIRECT_URI);
    } else {
      throw new Error(`unexpected page at ${new URL(step.url).pathname}`);
    }
  }
  if (step.res) throw new Error('sign-in did not reach the redirect URI');
  const code = new URL(step.url).searchParams.get('code');
  if (!code) throw new Error('no code in the redirect');
  const tokens = await post(`${issuer}/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
    basic(client.clientId, client.clientSecret));
  return { tokens, passwordPages };
}

/** GET /logout for `clientId`, then the page's "Sign out" form; returns the confirm POST's duration. */
export async function logout(issuer, browser, clientId) {
  return (await logoutTimed(issuer, browser, clientId)).ms;
}

/**
 * The same logout; also returns `arrived`, the hrtime (ns, bigint) at which the confirm POST's
 * response (its status line and headers) arrived, before cookies and body are processed.
 */
export async function logoutTimed(issuer, browser, clientId) {
  const url = `${issuer}/logout?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: POST_LOGOUT_URI })}`;
  const page = await browser.request(url);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`logout page answered ${page.status}`);
  const action = new URL(formAction(html, /\/logout\/confirm$/), url).toString();
  const form = { xsrf: hiddenInput(html, 'xsrf'), logout: 'yes' };
  let arrived;
  const started = process.hrtime.bigint();
  const res = await browser.request(action, { form, onHeaders: () => (arrived = process.hrtime.bigint()) });
  await res.arrayBuffer();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 303) throw new Error(`logout confirm answered ${res.status}`);
  return { ms, arrived };
}

export { Browser };
