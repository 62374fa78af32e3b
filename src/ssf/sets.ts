import { randomUUID } from 'node:crypto';

import { SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

import type { EntryKind } from '../revocation/revocation-log.js';
import { CREDENTIAL_CHANGE, SESSION_REVOKED, TOKEN_REVOKED, VERIFICATION } from './event-types.js';
import type { SetKey } from './set-key.js';

/** A revocation-log row, as a SET is made from it. */
export interface LogRow {
  readonly seq: number;
  readonly txn: string;
  readonly at: Date;
  readonly kind: string;
  readonly accountId: string | null;
  readonly clientId: string | null;
  readonly sid: string | null;
  readonly jti: string | null;
  readonly initiator: string;
  readonly reason: string;
  readonly validUntil: Date;
}

type Subject = Record<string, unknown>;
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * The SSF subject (`sub_id`) and event of a log row (null: the row is not announced). Subjects
 * are RFC 9493 / SSF §3 formats; a session is the `session` member of a `complex` subject (the
 * `sid` of that client's tokens), an application the `application` member (its client_id).
 * Members left out match anything; without `session`, a resource server revokes the matching
 * tokens issued at or before `event_timestamp`.
 */
export function eventOf(row: LogRow, issuer: string): { subject: Subject; type: string; extra: Record<string, unknown> } | null {
  const user = row.accountId ? { format: 'iss_sub', iss: issuer, sub: row.accountId } : null;
  const application = row.clientId ? { format: 'opaque', id: row.clientId } : null;
  switch (row.kind as EntryKind) {
    case 'session':
      if (!user || !row.sid) return null;
      return { type: SESSION_REVOKED, subject: { format: 'complex', user, session: { format: 'opaque', id: row.sid } }, extra: {} };
    case 'subject':
      return user ? { type: SESSION_REVOKED, subject: user, extra: {} } : null;
    case 'grant':
      return user && application ? { type: SESSION_REVOKED, subject: { format: 'complex', user, application }, extra: {} } : null;
    case 'client':
      return application ? { type: SESSION_REVOKED, subject: { format: 'complex', application }, extra: {} } : null;
    case 'token':
      return row.jti ? { type: TOKEN_REVOKED, subject: { format: 'jwt_id', iss: issuer, jti: row.jti }, extra: {} } : null;
    case 'credential':
      return user ? { type: CREDENTIAL_CHANGE, subject: user, extra: { credential_type: 'password', change_type: 'update' } } : null;
    default:
      return null;
  }
}

/** Signs Security Event Tokens (RFC 8417 as profiled by SSF 1.0 §4): one event each, no `sub`, no `exp`. */
export interface SetSigner {
  /** The SET of a log row for a receiver (`aud`); `jti` is the delivery's. Null: not announced. */
  forEntry(row: LogRow, aud: string, jti: string): Promise<string | null>;
  /** SSF §8.1.4.1: answers a verification request, with the receiver's `state`. */
  verification(streamId: string, aud: string, jti: string, state: string | null): Promise<string>;
  readonly publicJwks: SetKey['publicJwks'];
}

export function createSetSigner(deps: { issuer: string; key: SetKey }): SetSigner {
  const { issuer, key } = deps;
  // A receiver's streams all get the same SET (same jti, same aud): an RS256 signature costs
  // about a millisecond, so each is signed once and kept while it may be delivered again.
  const signed = new LRUCache<string, string>({ max: 20_000 });

  async function sign(aud: string, jti: string, txn: string, subject: Subject, type: string, event: Record<string, unknown>): Promise<string> {
    return new SignJWT({ aud, jti, txn, sub_id: subject, events: { [type]: event } })
      .setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: key.kid })
      .setIssuer(issuer)
      .setIssuedAt()
      .sign(key.privateKey);
  }

  return {
    publicJwks: key.publicJwks,
    async forEntry(row, aud, jti) {
      const cached = signed.get(jti);
      if (cached) return cached;
      const event = eventOf(row, issuer);
      if (!event) return null;
      const set = await sign(aud, jti, row.txn, event.subject, event.type, {
        event_timestamp: seconds(row.at),
        initiating_entity: row.initiator,
        reason_admin: { en: row.reason },
        // Tessera's own member: no token this event matches is valid after this time, so a
        // resource server may forget the event then (@tessera/resource-server does).
        tessera_valid_until: seconds(row.validUntil),
        ...event.extra,
      });
      signed.set(jti, set);
      return set;
    },
    verification: (streamId, aud, jti, state) =>
      sign(aud, jti, randomUUID(), { format: 'opaque', id: streamId }, VERIFICATION, state === null ? {} : { state }),
  };
}
