import type { Revoker, RevocationCause } from './revoker.js';

/** The parts of oidc-provider's request context (`Provider.ctx`) read here. */
interface ProviderContext {
  readonly ip?: string;
  readonly oidc?: {
    readonly route?: string;
    readonly client?: { readonly clientId: string };
    readonly entities?: { readonly RefreshToken?: { readonly accountId?: string }; readonly AuthorizationCode?: { readonly accountId?: string } };
  };
}

/**
 * Where the grants oidc-provider revokes on its own go: through Tessera's revoker, never as
 * row deletions by the adapter. oidc-provider revokes a grant (lib/helpers/revoke.js: a
 * `revokeByGrantId` per token model and a destroy of the Grant, all at once) when a used
 * refresh token or authorization code comes back (replay) and in a logout's confirm step.
 * - In a logout confirm, `collect` hands the grants to the logout step
 *   (src/revocation/logout-revocation.ts), which revokes them with the rest of the session in
 *   one transaction.
 * - Anywhere else, the first call for a grant revokes it through the revoker (replay
 *   detection: initiated by policy); the other calls of the same request for that grant find
 *   it done.
 * Not oidc-provider's `grant.revoked` event: its listeners are not awaited.
 */
export interface ProviderRevocations {
  /** For the adapter: true when the grant's revocation was taken over (the adapter must not delete). */
  takeOver(grantId: string): Promise<boolean>;
  /** Runs `work` (oidc-provider's logout confirm) and returns the grants it tried to revoke. */
  collect(ctx: object, work: () => Promise<void>): Promise<Set<string>>;
}

export function createProviderRevocations(deps: { revoker: Revoker; currentContext: () => object | undefined }): ProviderRevocations {
  const collecting = new WeakMap<object, Set<string>>();
  const revoked = new WeakMap<object, Map<string, Promise<unknown>>>();

  function causeOf(ctx: ProviderContext, grantId: string): RevocationCause {
    const oidc = ctx.oidc;
    const accountId = oidc?.entities?.RefreshToken?.accountId ?? oidc?.entities?.AuthorizationCode?.accountId;
    const replay = oidc?.route === 'token';
    return {
      action: 'grant.revoke',
      actor: { type: 'system', label: replay ? 'replay detection' : 'oidc-provider' },
      initiator: replay ? 'policy' : 'system',
      ...(accountId ? { target: { type: 'user', id: accountId } } : {}),
      reason: replay ? 'a used refresh token or authorization code was presented again' : `grant ended by oidc-provider (${oidc?.route ?? 'unknown route'})`,
      details: { grant: grantId, client: oidc?.client?.clientId ?? null, ip: ctx.ip ?? null },
    };
  }

  return {
    async takeOver(grantId) {
      const ctx = deps.currentContext();
      if (!ctx) return false;
      const collected = collecting.get(ctx);
      if (collected) {
        collected.add(grantId);
        return true;
      }
      let done = revoked.get(ctx);
      if (!done) {
        done = new Map();
        revoked.set(ctx, done);
      }
      // oidc-provider calls this for every model of the grant at once: revoke once, and let
      // every call wait for that one commit.
      let pending = done.get(grantId);
      if (!pending) {
        pending = deps.revoker.revokeGrants([grantId], causeOf(ctx as ProviderContext, grantId));
        done.set(grantId, pending);
      }
      await pending;
      return true;
    },
    async collect(ctx, work) {
      const grants = new Set<string>();
      collecting.set(ctx, grants);
      try {
        await work();
      } finally {
        collecting.delete(ctx);
      }
      return grants;
    },
  };
}
