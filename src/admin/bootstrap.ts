import type { Account, Accounts } from '../accounts/accounts.js';
import type { Actor, Audit } from '../audit/audit.js';
import type { Logger } from '../log.js';
import { ADMIN_ROLE, isEnabledAdmin } from './users.js';

/**
 * Makes `email` an admin: creates the user with `password` when there is none, or adds the
 * admin role to an existing user (whose password is then left alone). Used by
 * `tessera admin create` and by the ADMIN_BOOTSTRAP_* variables.
 */
export async function ensureAdmin(deps: { accounts: Accounts; audit: Audit }, input: { email: string; password: string }, actor: Actor): Promise<{ user: Account; created: boolean }> {
  const existing = await deps.accounts.findByEmail(input.email);
  if (!existing) {
    const user = await deps.accounts.create({ email: input.email, password: input.password, roles: [ADMIN_ROLE] });
    await deps.audit.record({ action: 'user.create', actor, target: { type: 'user', id: user.id }, details: { email: user.email, roles: user.roles } });
    return { user, created: true };
  }
  if (existing.roles.includes(ADMIN_ROLE)) return { user: existing, created: false };
  const user = await deps.accounts.update(existing.id, { roles: [...existing.roles, ADMIN_ROLE] });
  await deps.audit.record({ action: 'user.update', actor, target: { type: 'user', id: user.id }, details: { roles: { from: existing.roles, to: user.roles } } });
  return { user, created: false };
}

/** At start: with ADMIN_BOOTSTRAP_EMAIL/PASSWORD set and no enabled admin yet, create the first one. */
export async function bootstrapAdmin(deps: { accounts: Accounts; audit: Audit; log: Logger; bootstrap: { email: string; password: string } | null }): Promise<void> {
  if (!deps.bootstrap) return;
  const admins = (await deps.accounts.list({ limit: 100_000 })).filter(isEnabledAdmin);
  if (admins.length > 0) return;
  const { user, created } = await ensureAdmin(deps, deps.bootstrap, { type: 'system', label: 'ADMIN_BOOTSTRAP_EMAIL' });
  deps.log.info({ event: 'admin.bootstrap', userId: user.id, created }, 'first admin set up from ADMIN_BOOTSTRAP_EMAIL');
}
