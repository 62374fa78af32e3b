import { once } from 'node:events';
import { createServer } from 'node:http';

import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { migrateDatabase } from './db/migrate.js';
import { createLogger } from './log.js';

/** The only file that reads process.env, listens, and handles signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const { applied } = await migrateDatabase({ databaseUrl: config.databaseUrl });
  if (applied.length > 0) log.info({ event: 'migrations.applied', migrations: applied }, 'database migrated');

  const app = await createApp(config, { log });
  app.sweeper.start(config.sweep.intervalSeconds);
  app.pushWorker.start();
  app.backchannelWorker.start();
  app.providerHost.startWatching(config.keys.refreshIntervalSeconds);
  const server = createServer(app.koa.callback());

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'shutdown', signal }, 'shutting down');
    app.stopping();
    if (server.listening) {
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      force.unref();
      await closed;
    }
    await app.close();
    log.info({ event: 'stopped' }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  // Signal handlers first: whoever treats the "listening" line as ready may signal at once.
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.listening(port);
  log.info({ event: 'listening', port, issuer: config.issuer }, `Tessera listening on port ${port}`);
}

main().catch((err: Error) => {
  process.stderr.write(`tessera: failed to start: ${err.message}\n`);
  process.exit(1);
});
