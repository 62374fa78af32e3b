// The API of the revocation-feed scenario, run as a child process (its event loop its own): the
// seed's express 5 + express-jwt 8 + jwks-rsa 4 API, validating Tessera's ES256 access tokens
// locally, with the one added line `isRevoked: feed.isRevoked` (@tessera/resource-server).
// GET /data answers 200 for a valid token that is not revoked, 401 for a revoked (or invalid)
// one, 503 while the feed is stale. GET /_bench/stats (no token) answers its counters.
// Environment: PORT, FEED_ISSUER, FEED_AUDIENCE, FEED_CLIENT_ID, FEED_CLIENT_SECRET.
// Prints "feed api listening" once the feed has caught up and the port is open. SIGTERM closes
// the feed (which removes its stream at Tessera) and the server. Tokens are never printed.
import { createRevocationFeed } from '@tessera/resource-server';
import express from 'express';
import { expressjwt } from 'express-jwt';
import jwksRsa from 'jwks-rsa';

const issuer = process.env.FEED_ISSUER;
const statuses = {};
const feedLog = { info: 0, warn: 0, error: 0, last: [] };
const note = (level) => (message) => {
  feedLog[level] += 1;
  if (level !== 'info') feedLog.last = [...feedLog.last.slice(-4), `${level}: ${String(message).slice(0, 300)}`];
};

const feed = createRevocationFeed({
  issuer,
  clientId: process.env.FEED_CLIENT_ID,
  clientSecret: process.env.FEED_CLIENT_SECRET,
  description: 'bench feed-api',
  logger: { info: note('info'), warn: note('warn'), error: note('error') },
});
const started = performance.now();
await feed.ready();
const readyMs = performance.now() - started;

const app = express();
app.disable('x-powered-by');
app.get('/_bench/stats', (_req, res) => {
  res.json({ statuses, feed: feed.health(), feedLog, readyMs: Number(readyMs.toFixed(1)), memory: process.memoryUsage() });
});
app.use((_req, res, next) => {
  res.on('finish', () => (statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1));
  next();
});
app.use(expressjwt({
  secret: jwksRsa.expressJwtSecret({ jwksUri: `${issuer}/jwks`, cache: true, rateLimit: true }),
  audience: process.env.FEED_AUDIENCE,
  issuer,
  algorithms: ['ES256'],
  isRevoked: feed.isRevoked,
}));
app.get('/data', (_req, res) => void res.json({ ok: true }));
// express-jwt's UnauthorizedError (401, revoked_token among its codes) and the feed's stale error (503).
app.use((err, _req, res, _next) => {
  if (err.headers) res.set(err.headers);
  res.status(err.status ?? 500).json({ error: err.code ?? 'server_error' });
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('feed api listening'));
server.keepAliveTimeout = 30_000;

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 5000);
  force.unref();
  await feed.close().catch(() => undefined);
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The driver went away without stopping us: do not outlive it.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && void stop(), 1000).unref();
