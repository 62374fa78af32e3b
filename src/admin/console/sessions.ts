import { randomBytes } from 'node:crypto';

import type { Account, Accounts } from '../../accounts/accounts.js';
import type { Db } from '../../db/client.js';
import { hashIdentifier } from '../../hash.js';
import { isEnabledAdmin } from '../users.js';

export const CONSOLE_COOKIE = 'tessera.console';

/**
 * Admin console sign-ins. The cookie carries 256 random bits; the database keeps their SHA-256
 * with the admin's account and the grant the console received at sign-in. A console session is
 * valid only while that grant exists (so logging out of Tessera, "sign out everywhere", or an
 * admin revoking it ends the console session too), the account is enabled and still an admin,
 * and it has been used within the idle timeout.
 */
export interface ConsoleSessions {
  create(accountId: string, grantId: string): Promise<string>;
  resolve(cookie: string | undefined): Promise<Account | null>;
  destroy(cookie: string | undefined): Promise<void>;
}

export function createConsoleSessions(deps: { db: Db; accounts: Accounts; idleSeconds: number }): ConsoleSessions {
  const { db, accounts, idleSeconds } = deps;
  const expiry = () => new Date(Date.now() + idleSeconds * 1000);
  return {
    async create(accountId, grantId) {
      const cookie = randomBytes(32).toString('base64url');
      await db.consoleSession.create({ data: { id: hashIdentifier(cookie), accountId, grantId, expiresAt: expiry() } });
      return cookie;
    },

    async resolve(cookie) {
      if (!cookie || cookie.length > 100) return null;
      const id = hashIdentifier(cookie);
      const row = await db.consoleSession.findUnique({ where: { id } });
      const now = Date.now();
      if (!row || row.expiresAt.getTime() <= now) return null;
      const grant = await db.oidcGrant.findUnique({ where: { id: hashIdentifier(row.grantId) }, select: { accountId: true, expiresAt: true } });
      if (!grant || grant.accountId !== row.accountId || (grant.expiresAt && grant.expiresAt.getTime() <= now)) return null;
      const account = await accounts.findById(row.accountId);
      if (!isEnabledAdmin(account)) return null;
      // Sliding idle timeout, written at most once a minute.
      if (now - row.lastSeenAt.getTime() > 60_000) {
        await db.consoleSession.update({ where: { id }, data: { lastSeenAt: new Date(now), expiresAt: expiry() } });
      }
      return account;
    },

    async destroy(cookie) {
      if (cookie) await db.consoleSession.deleteMany({ where: { id: hashIdentifier(cookie) } });
    },
  };
}
