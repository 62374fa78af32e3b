import { EVENT_BITS } from '../revocation/revocation-log.js';

/** CAEP 1.0 §3.1 */
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
/** CAEP 1.0 §3.3 */
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
/**
 * One token revoked. No final specification defines this event; Tessera uses the type URI of
 * the OpenID "OAuth Event Types 1.0" draft (2018), with a `jwt_id` subject (SSF §3.5).
 */
export const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
/** SSF 1.0 §8.1.4.1 */
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** The event types a stream may ask for, and the revocation-log bit of each. */
export const SUPPORTED_EVENTS: ReadonlyMap<string, number> = new Map([
  [SESSION_REVOKED, EVENT_BITS.sessionRevoked],
  [CREDENTIAL_CHANGE, EVENT_BITS.credentialChange],
  [TOKEN_REVOKED, EVENT_BITS.tokenRevoked],
]);

/** `events_delivered` for `events_requested` (absent: every supported type), and its mask. */
export function deliveredEvents(requested: readonly string[] | undefined): { delivered: string[]; mask: number } {
  const delivered = requested === undefined ? [...SUPPORTED_EVENTS.keys()] : [...new Set(requested)].filter((type) => SUPPORTED_EVENTS.has(type));
  return { delivered, mask: delivered.reduce((mask, type) => mask | SUPPORTED_EVENTS.get(type)!, 0) };
}
