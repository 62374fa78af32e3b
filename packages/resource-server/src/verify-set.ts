import { errors, jwtVerify, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyGetKey, type KeyObject } from 'jose';

import type { SetClaims } from './revocation-set.js';

/** RFC 8935 §2.3 error codes a receiver reports for a SET it refuses. */
export type SetErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience';

/** The SET is refused: report `err` and `description` in the next poll's setErrs, and do not apply it. */
export class SetVerificationError extends Error {
  readonly err: SetErrorCode;
  /**
   * True when the key may simply be too new for the cached key set (unknown kid): the caller may leave the SET
   * unacknowledged for a while, so that it is delivered again once the key set has been fetched anew.
   */
  readonly retryable: boolean;

  constructor(err: SetErrorCode, description: string, retryable = false) {
    super(description);
    this.name = 'SetVerificationError';
    this.err = err;
    this.retryable = retryable;
  }
}

export interface VerifySetOptions {
  /** The transmitter's issuer (the `issuer` of its SSF configuration): the SET's iss must be exactly this. */
  issuer: string;
  /** This receiver's client id: the SET's aud must be it, or contain it. */
  audience: string;
  /** The transmitter's keys: createRemoteJWKSet(jwks_uri), or one public key. */
  key: JWTVerifyGetKey | CryptoKey | KeyObject | JWK | Uint8Array;
}

/**
 * Verifies one Security Event Token (RFC 8417): typ secevent+jwt, RS256, issuer, audience, and the claims a SET must
 * have (jti, iat, events with exactly one event object). No exp is required.
 *
 * Throws SetVerificationError when the SET must be refused; any other error (the key set could not be fetched,
 * a timeout) is transient: leave the SET unacknowledged and it is delivered again.
 */
export async function verifySet(jws: string, options: VerifySetOptions): Promise<SetClaims> {
  if (typeof jws !== 'string' || jws.length === 0) throw new SetVerificationError('invalid_request', 'the SET is not a compact JWS');
  const verifyOptions = { issuer: options.issuer, audience: options.audience, algorithms: ['RS256'], typ: 'secevent+jwt' };
  let payload: JWTPayload;
  try {
    const { key } = options;
    ({ payload } = typeof key === 'function' ? await jwtVerify(jws, key, verifyOptions) : await jwtVerify(jws, key, verifyOptions));
  } catch (err) {
    throw refusal(err) ?? err;
  }

  const claims = payload as Record<string, unknown>;
  if (typeof claims.jti !== 'string' || claims.jti.length === 0) throw new SetVerificationError('invalid_request', 'the SET has no jti');
  if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) throw new SetVerificationError('invalid_request', 'the SET has no iat');
  const events = claims.events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new SetVerificationError('invalid_request', 'the SET has no events object');
  const types = Object.keys(events);
  if (types.length !== 1) throw new SetVerificationError('invalid_request', `the SET must carry exactly one event, it has ${types.length}`);
  const event = (events as Record<string, unknown>)[types[0] as string];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new SetVerificationError('invalid_request', 'the event is not an object');
  return claims as SetClaims;
}

/** The refusal a jose error amounts to; undefined when the error is transient. */
function refusal(err: unknown): SetVerificationError | undefined {
  if (err instanceof errors.JWKSNoMatchingKey) return new SetVerificationError('invalid_key', 'no key of the transmitter matches the SET', true);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new SetVerificationError('invalid_key', 'the SET signature does not verify');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new SetVerificationError('invalid_key', 'several keys of the transmitter match the SET');
  if (err instanceof errors.JOSEAlgNotAllowed) return new SetVerificationError('invalid_key', 'the SET is not signed with RS256');
  if (err instanceof errors.JWKInvalid) return new SetVerificationError('invalid_key', 'the key matching the SET is unusable');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new SetVerificationError('invalid_issuer', 'the SET has an unexpected iss');
    if (err.claim === 'aud') return new SetVerificationError('invalid_audience', 'the SET is not addressed to this client (aud)');
    if (err.claim === 'typ') return new SetVerificationError('invalid_request', 'the SET header typ is not secevent+jwt');
    return new SetVerificationError('invalid_request', `the SET claim ${err.claim} is invalid: ${err.message}`);
  }
  if (err instanceof errors.JWTExpired) return new SetVerificationError('invalid_request', 'the SET has expired');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return new SetVerificationError('invalid_request', `the SET is malformed: ${err.message}`);
  }
  return undefined;
}
