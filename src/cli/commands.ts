import { Command } from 'commander';

import type { Account } from '../accounts/accounts.js';
import type { App } from '../app.js';
import type { Config } from '../config.js';
import { migrateDatabase } from '../db/migrate.js';
import { notFound } from '../errors.js';
import { listSigningKeys, rotateSigningKeys } from '../oidc/keys.js';
import { parseJsonInput, passwordFromStdin, printJson, readStdin } from './io.js';

export interface CliDeps {
  config: Config;
  /** Opens the issuer's services on DATABASE_URL (after migrating it). */
  openApp: () => Promise<App>;
  stdin: () => Promise<string>;
}

const accountJson = (a: Account) => ({
  id: a.id,
  email: a.email,
  disabled: a.disabled,
  roles: a.roles,
  createdAt: a.createdAt.toISOString(),
  lastLoginAt: a.lastLoginAt?.toISOString() ?? null,
  lastLogoutAt: a.lastLogoutAt?.toISOString() ?? null,
});

/** Builds the `tessera` command tree. Each action prints JSON; errors propagate to main. */
export function buildCli(deps: CliDeps): Command {
  let app: App | undefined;
  const open = async (): Promise<App> => (app ??= await deps.openApp());
  const program = new Command('tessera')
    .description('Tessera: an OAuth 2 / OpenID Connect issuer whose logout really logs out')
    .showHelpAfterError()
    .exitOverride();

  program.command('migrate').description('apply pending database migrations').action(async () => {
    const { applied } = await migrateDatabase({ databaseUrl: deps.config.databaseUrl });
    printJson({ applied });
  });

  const user = program.command('user').description('manage users');
  const findUser = async (ref: string): Promise<Account> => {
    const { accounts } = (await open()).services;
    const found = ref.includes('@') ? await accounts.findByEmail(ref) : await accounts.findById(ref);
    if (!found) throw notFound(`user ${ref}`);
    return found;
  };
  user.command('create').description('create a user; the password is read from standard input')
    .requiredOption('--email <email>', 'e-mail address (the login name)')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .option('--role <role...>', 'roles, e.g. admin')
    .action(async (opts: { email: string; role?: string[] }) => {
      const password = passwordFromStdin(await deps.stdin());
      const created = await (await open()).services.accounts.create({ email: opts.email, password, roles: opts.role ?? [] });
      printJson(accountJson(created));
    });
  user.command('list').description('list users').action(async () => {
    printJson((await (await open()).services.accounts.list()).map(accountJson));
  });
  user.command('show <user>').description('show a user (id or e-mail)').action(async (ref: string) => {
    printJson(accountJson(await findUser(ref)));
  });
  user.command('disable <user>').description('disable a user and revoke all their sessions and tokens').action(async (ref: string) => {
    const { accounts, revoker } = (await open()).services;
    const found = await findUser(ref);
    const updated = await accounts.setDisabled(found.id, true);
    const revoked = await revoker.revokeAccount(found.id);
    printJson({ ...accountJson(updated), revoked });
  });
  user.command('enable <user>').description('enable a disabled user').action(async (ref: string) => {
    const { accounts } = (await open()).services;
    printJson(accountJson(await accounts.setDisabled((await findUser(ref)).id, false)));
  });
  user.command('set-password <user>').description('set a password (from standard input) and revoke all sessions')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .action(async (ref: string) => {
      const { accounts, revoker } = (await open()).services;
      const found = await findUser(ref);
      await accounts.setPassword(found.id, passwordFromStdin(await deps.stdin()));
      printJson({ id: found.id, passwordChanged: true, revoked: await revoker.revokeAccount(found.id) });
    });
  user.command('signout <user>').description('revoke every session and token of a user ("sign out everywhere")').action(async (ref: string) => {
    const { revoker } = (await open()).services;
    const found = await findUser(ref);
    printJson({ id: found.id, revoked: await revoker.revokeAccount(found.id) });
  });
  user.command('delete <user>').description('delete a user and revoke everything of theirs').action(async (ref: string) => {
    const { accounts, revoker } = (await open()).services;
    const found = await findUser(ref);
    const revoked = await revoker.revokeAccount(found.id);
    await accounts.remove(found.id);
    printJson({ id: found.id, deleted: true, revoked });
  });

  const client = program.command('client').description('manage OAuth clients');
  client.command('create').description('register a client from RFC 7591 metadata JSON on standard input').action(async () => {
    const metadata = parseJsonInput(await deps.stdin(), 'metadata');
    const { client: created, clientSecret } = await (await open()).services.clients.create(metadata);
    printJson({ ...created, ...(clientSecret ? { client_secret: clientSecret } : {}) });
  });
  client.command('list').description('list clients (secrets are never shown)').action(async () => {
    const list = await (await open()).services.clients.list();
    printJson(list.map((c) => ({ ...c.metadata, disabled: c.disabled, createdAt: c.createdAt.toISOString() })));
  });
  client.command('disable <clientId>').description('disable a client; its tokens stop working').action(async (id: string) => {
    const c = await (await open()).services.clients.setDisabled(id, true);
    printJson({ client_id: c.clientId, disabled: c.disabled });
  });
  client.command('enable <clientId>').description('enable a client').action(async (id: string) => {
    const c = await (await open()).services.clients.setDisabled(id, false);
    printJson({ client_id: c.clientId, disabled: c.disabled });
  });
  client.command('rotate-secret <clientId>').description('issue a new client secret (the old one stops working)').action(async (id: string) => {
    printJson({ client_id: id, client_secret: await (await open()).services.clients.rotateSecret(id) });
  });
  client.command('delete <clientId>').description('delete a client').action(async (id: string) => {
    await (await open()).services.clients.remove(id);
    printJson({ client_id: id, deleted: true });
  });

  const api = program.command('api').description('manage APIs (resource servers)');
  const apiJson = (a: { createdAt: Date }) => ({ ...a, createdAt: a.createdAt.toISOString() });
  api.command('create').description('register an API from JSON on standard input').action(async () => {
    printJson(apiJson(await (await open()).services.apis.create(parseJsonInput(await deps.stdin(), 'api'))));
  });
  api.command('update <identifier>').description('update an API from JSON on standard input').action(async (identifier: string) => {
    printJson(apiJson(await (await open()).services.apis.update(identifier, parseJsonInput(await deps.stdin(), 'api'))));
  });
  api.command('list').description('list APIs').action(async () => {
    printJson((await (await open()).services.apis.list()).map(apiJson));
  });
  api.command('delete <identifier>').description('delete an API').action(async (identifier: string) => {
    await (await open()).services.apis.remove(identifier);
    printJson({ identifier, deleted: true });
  });

  const keys = program.command('keys').description('manage signing keys');
  keys.command('rotate').description('create a new signing key; earlier keys stop signing but stay published (SIGNING_KEY_OVERLAP)')
    .action(async () => {
      const { db } = (await open()).services;
      const rotated = await rotateSigningKeys(db, deps.config.signingAlg);
      printJson({ ...rotated, alg: deps.config.signingAlg, overlapSeconds: deps.config.keys.overlapSeconds });
    });
  keys.command('list').description('list signing keys (never the private parts)').action(async () => {
    const { db } = (await open()).services;
    const list = await listSigningKeys(db, deps.config.keys.overlapSeconds);
    printJson(list.map((k) => ({ ...k, createdAt: k.createdAt.toISOString(), retiredAt: k.retiredAt?.toISOString() ?? null })));
  });

  program.hook('postAction', async () => {
    await app?.close();
    app = undefined;
  });
  return program;
}
