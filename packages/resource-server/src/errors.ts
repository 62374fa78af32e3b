/** Why a feed cannot answer whether a token is revoked. */
export type StaleReason = 'not_ready' | 'no_contact' | 'closed' | 'overflowed';

const MESSAGES: Record<StaleReason, string> = {
  not_ready: 'the revocation feed has not caught up with Tessera yet',
  no_contact: 'the revocation feed has lost contact with Tessera',
  closed: 'the revocation feed is closed',
  overflowed: 'the revocation feed holds too many revocations (maxEntries) and had to leave one out',
};

/**
 * Thrown by `revoked()` and `isRevoked()` while the feed cannot tell whether a token is revoked.
 * `status` 503 makes Express's (and most frameworks') error handlers answer 503 Service Unavailable.
 */
export class RevocationFeedStaleError extends Error {
  readonly status = 503;
  readonly statusCode = 503;
  readonly code = 'revocation_feed_stale';
  /** Not shown to clients by Express's error handler in production (a 5xx never is). */
  readonly expose = false;
  /** Express's error handler sends these headers with the 503. */
  readonly headers: Readonly<Record<string, string>> = Object.freeze({ 'Retry-After': '5' });
  readonly reason: StaleReason;

  constructor(reason: StaleReason) {
    super(MESSAGES[reason]);
    this.name = 'RevocationFeedStaleError';
    this.reason = reason;
  }
}

/** A request to Tessera failed. `permanent` when retrying cannot help (bad credentials, no SSF support, refused). */
export class SsfError extends Error {
  /** HTTP status of the answer; undefined when there was none (network error, timeout). */
  readonly status: number | undefined;
  /** The OAuth / SSF error code of the answer (e.g. invalid_client), when it had one. */
  readonly code: string | undefined;
  readonly permanent: boolean;

  constructor(message: string, options: { status?: number | undefined; code?: string | undefined; permanent: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SsfError';
    this.status = options.status;
    this.code = options.code;
    this.permanent = options.permanent;
  }
}

/** The poll endpoint answered 404: the stream is gone (removed after inactivity, or by an administrator). */
export class StreamGoneError extends SsfError {
  constructor(message: string) {
    super(message, { status: 404, permanent: false });
    this.name = 'StreamGoneError';
  }
}
