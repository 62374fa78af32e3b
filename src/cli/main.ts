import { CommanderError } from 'commander';

import { createApp } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { migrateDatabase } from '../db/migrate.js';
import { AppError } from '../errors.js';
import { createLogger } from '../log.js';
import { buildCli } from './commands.js';
import { readStdin } from './io.js';

/** `tessera` entry point: JSON on stdout on success; a message on stderr and exit 1 otherwise. */
async function main(argv: string[]): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const cli = buildCli({
    config,
    openApp: async () => {
      await migrateDatabase({ databaseUrl: config.databaseUrl });
      return createApp(config, { log: createLogger({ level: 'silent' }) });
    },
    stdin: () => readStdin(),
  });
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof AppError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`tessera: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
