import type { Account as OidcAccount, FindAccount } from 'oidc-provider';

import type { Accounts } from '../accounts/accounts.js';

/**
 * oidc-provider calls this for userinfo, ID tokens, refresh and (through Tessera's
 * introspection) every token check. A disabled or deleted account resolves to nothing, so its
 * tokens stop working even if some row survived revocation (defence in depth, cf. Logto #9320).
 */
export function createFindAccount(accounts: Accounts): FindAccount {
  return async (_ctx, sub): Promise<OidcAccount | undefined> => {
    const account = await accounts.findById(sub);
    if (!account || account.disabled) return undefined;
    return {
      accountId: account.id,
      claims: () => ({ sub: account.id, email: account.email, email_verified: false }),
    };
  };
}
