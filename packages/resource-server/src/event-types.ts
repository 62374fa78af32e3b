/** CAEP: every token of a session, a user, or a user's tokens for one client, is revoked. */
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
/** OAuth event: one token (by its jti) is revoked. */
export const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
/** CAEP: a credential changed (password, key). No effect on tokens by itself. */
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
/** SSF: answer to a verification request. */
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
/** SSF: the stream's status changed. */
export const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';

/** Every event type a feed asks its stream for. */
export const EVENT_TYPES: readonly string[] = Object.freeze([SESSION_REVOKED, TOKEN_REVOKED, CREDENTIAL_CHANGE, VERIFICATION, STREAM_UPDATED]);

/** RFC 8936: the delivery method of a poll stream. */
export const POLL_DELIVERY = 'urn:ietf:rfc:8936';
