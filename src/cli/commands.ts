import { Command } from 'commander';

import type { Account } from '../accounts/accounts.js';
import { ensureAdmin } from '../admin/bootstrap.js';
import type { App } from '../app.js';
import type { Actor } from '../audit/audit.js';
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

/** The audit log's actor for everything done from the command line. */
const CLI: Actor = { type: 'system', label: 'tessera CLI' };

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
      const created = await (await open()).services.userAdmin.create({ email: opts.email, password, roles: opts.role ?? [] }, CLI);
      printJson(accountJson(created));
    });
  user.command('list').description('list users').action(async () => {
    printJson((await (await open()).services.accounts.list()).map(accountJson));
  });
  user.command('show <user>').description('show a user (id or e-mail)').action(async (ref: string) => {
    printJson(accountJson(await findUser(ref)));
  });
  user.command('disable <user>').description('disable a user and revoke all their sessions and tokens').action(async (ref: string) => {
    const found = await findUser(ref);
    const { user: updated, revoked } = await (await open()).services.userAdmin.setDisabled(found.id, true, CLI);
    printJson({ ...accountJson(updated), revoked });
  });
  user.command('enable <user>').description('enable a disabled user').action(async (ref: string) => {
    const found = await findUser(ref);
    printJson(accountJson((await (await open()).services.userAdmin.setDisabled(found.id, false, CLI)).user));
  });
  user.command('set-password <user>').description('set a password (from standard input) and revoke all sessions')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .action(async (ref: string) => {
      const found = await findUser(ref);
      const { revoked } = await (await open()).services.userAdmin.setPassword(found.id, passwordFromStdin(await deps.stdin()), CLI);
      printJson({ id: found.id, passwordChanged: true, revoked });
    });
  user.command('signout <user>').description('revoke every session and token of a user ("sign out everywhere")').action(async (ref: string) => {
    const found = await findUser(ref);
    printJson({ id: found.id, revoked: await (await open()).services.userAdmin.revokeAll(found.id, CLI) });
  });
  user.command('delete <user>').description('delete a user and revoke everything of theirs').action(async (ref: string) => {
    const found = await findUser(ref);
    const { revoked } = await (await open()).services.userAdmin.remove(found.id, CLI);
    printJson({ id: found.id, deleted: true, revoked });
  });

  const admin = program.command('admin').description('manage administrators of the admin console and API');
  admin.command('create').description('create an admin user (password from standard input), or give an existing user the admin role')
    .requiredOption('--email <email>', 'e-mail address (the login name)')
    .requiredOption('--password-stdin', 'read the password from standard input (ignored for an existing user)')
    .action(async (opts: { email: string }) => {
      const password = passwordFromStdin(await deps.stdin());
      const { user: created, created: isNew } = await ensureAdmin((await open()).services, { email: opts.email, password }, CLI);
      printJson({ ...accountJson(created), created: isNew });
    });

  const client = program.command('client').description('manage OAuth clients');
  client.command('create').description('register a client from RFC 7591 metadata JSON on standard input').action(async () => {
    const metadata = parseJsonInput(await deps.stdin(), 'metadata');
    const { client: created, clientSecret } = await (await open()).services.clientAdmin.create(metadata, CLI);
    printJson({ ...created.metadata, ...(clientSecret ? { client_secret: clientSecret } : {}) });
  });
  client.command('list').description('list clients (secrets are never shown)').action(async () => {
    const list = await (await open()).services.clients.list();
    printJson(list.map((c) => ({ ...c.metadata, disabled: c.disabled, createdAt: c.createdAt.toISOString() })));
  });
  client.command('disable <clientId>').description('disable a client; its tokens stop working').action(async (id: string) => {
    const { client: c, revoked } = await (await open()).services.clientAdmin.setDisabled(id, true, CLI);
    printJson({ client_id: c.client_id, disabled: c.disabled, revoked });
  });
  client.command('enable <clientId>').description('enable a client').action(async (id: string) => {
    const { client: c } = await (await open()).services.clientAdmin.setDisabled(id, false, CLI);
    printJson({ client_id: c.client_id, disabled: c.disabled });
  });
  client.command('rotate-secret <clientId>').description('issue a new client secret (the old one stops working)').action(async (id: string) => {
    printJson({ client_id: id, client_secret: await (await open()).services.clientAdmin.rotateSecret(id, CLI) });
  });
  client.command('delete <clientId>').description('delete a client').action(async (id: string) => {
    const { revoked } = await (await open()).services.clientAdmin.remove(id, CLI);
    printJson({ client_id: id, deleted: true, revoked });
  });

  const api = program.command('api').description('manage APIs (resource servers)');
  const apiJson = (a: { createdAt: Date }) => ({ ...a, createdAt: a.createdAt.toISOString() });
  api.command('create').description('register an API from JSON on standard input').action(async () => {
    printJson(apiJson(await (await open()).services.apiAdmin.create(parseJsonInput(await deps.stdin(), 'api'), CLI)));
  });
  api.command('update <identifier>').description('update an API from JSON on standard input').action(async (identifier: string) => {
    printJson(apiJson(await (await open()).services.apiAdmin.update(identifier, parseJsonInput(await deps.stdin(), 'api'), CLI)));
  });
  api.command('list').description('list APIs').action(async () => {
    printJson((await (await open()).services.apis.list()).map(apiJson));
  });
  api.command('delete <identifier>').description('delete an API').action(async (identifier: string) => {
    await (await open()).services.apiAdmin.remove(identifier, CLI);
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
