// The API from the seed: Express 5 + express-jwt 8 + jwks-rsa 4, checking Tessera's ES256 access
// tokens locally (signature, issuer, audience, expiry). Tessera is never asked about a token, so on
// its own this API keeps accepting a token after its user has logged out.
//
// The fix is the revocation feed of @tessera/resource-server and ONE added line in the express-jwt
// options (marked below). REVOCATION_FEED=off runs the API exactly as the seed had it.
//
// Environment:
//   TESSERA_ISSUER      Tessera's issuer URL, e.g. http://127.0.0.1:3000       (required)
//   API_AUDIENCE        the API's identifier registered in Tessera              (default https://api.example.com)
//   PORT                listening port; 0 picks a free one                      (default 4000)
//   HOST                listening address                                       (default 127.0.0.1)
//   REVOCATION_FEED     on | off                                                (default on)
//   FEED_CLIENT_ID      the API's SSF receiver client (scope "ssf.manage ssf.read"), when on
//   FEED_CLIENT_SECRET  its secret, when on
import { createRevocationFeed } from '@tessera/resource-server';
import express from 'express';
import { expressjwt } from 'express-jwt';
import jwksRsa from 'jwks-rsa';

const issuer = required('TESSERA_ISSUER').replace(/\/+$/, '');
const audience = process.env.API_AUDIENCE ?? 'https://api.example.com';
const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '127.0.0.1';
const mode = process.env.REVOCATION_FEED ?? 'on';
if (mode !== 'on' && mode !== 'off') fail(`REVOCATION_FEED must be "on" or "off", not "${mode}"`);

// Tessera's revocation feed: an SSF poll stream held open by this process. ready() resolves once the
// stream exists and everything already pending has been read, so the API never serves uncaught-up.
let feed;
if (mode === 'on') {
  feed = createRevocationFeed({ issuer, clientId: required('FEED_CLIENT_ID'), clientSecret: required('FEED_CLIENT_SECRET') });
  try {
    await feed.ready();
  } catch (err) {
    // Wrong credentials, an issuer without SSF, or Tessera unreachable for readyTimeoutSeconds (30 s).
    await feed.close();
    fail(err.message);
  }
}

const app = express();

app.use('/api', expressjwt({
  secret: jwksRsa.expressJwtSecret({
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 5,
    jwksUri: `${issuer}/jwks`,
  }),
  audience,                        // the API's identifier, e.g. https://api.example.com
  issuer,                          // Tessera's issuer URL
  algorithms: ['ES256'],
  isRevoked: feed?.isRevoked, // ← THE ONE ADDED LINE (feed is undefined with REVOCATION_FEED=off: the seed's API)
}));

app.get('/api/data', (req, res) => {
  // req.auth: the verified token's claims, set by express-jwt.
  res.json({ data: 'something only a signed-in user may see', sub: req.auth.sub });
});

// express-jwt's errors (UnauthorizedError: invalid_token, revoked_token, credentials_required...) carry
// status 401; the feed's RevocationFeedStaleError carries status 503 and a Retry-After header.
app.use((err, req, res, next) => {
  if (res.headersSent) return next(err);
  const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
  if (status === 401) res.set('WWW-Authenticate', `Bearer error="invalid_token"`);
  if (err.headers) res.set(err.headers);
  if (status >= 500 && status !== 503) console.error(err);
  res.status(status).json({ error: typeof err.code === 'string' ? err.code : status >= 500 ? 'server_error' : 'error' });
});

const server = app.listen(port, host, () => {
  const address = server.address();
  console.log(`api listening on http://${host}:${address.port} (revocation feed: ${mode})`);
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    // Stops polling and removes this replica's stream at Tessera (best effort, at most 2 s).
    await feed?.close();
    process.exit(0);
  });
}

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is required`);
  return value;
}

function fail(message) {
  console.error(`api: ${message}`);
  process.exit(1);
}
