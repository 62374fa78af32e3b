import type Provider from 'oidc-provider';

interface ClientClass {
  prototype: { backchannelLogout(sub: string, sid: string): Promise<void> };
}

/**
 * Keeps oidc-provider's own back-channel logout sender quiet. With `features.backchannelLogout`
 * on (so that clients may register `backchannel_logout_uri` and discovery advertises it), the
 * end-session confirm step (oidc-provider lib/actions/end_session.js, `endSession`) awaits
 * `client.backchannelLogout(accountId, sid)` (lib/models/client.js) for the session's clients:
 * from the logout page only, once, with no retry, and through its own fetch. Tessera sends
 * instead, for every revocation that ends a session (src/backchannel/backchannel-worker.ts), so
 * that each client gets exactly one logout token per ended session. Each provider instance has
 * its own Client class: call this for every provider built.
 */
export function silenceBackchannelLogout(provider: Provider): void {
  const { prototype } = (provider as unknown as { Client: ClientClass }).Client;
  prototype.backchannelLogout = async () => undefined;
}
